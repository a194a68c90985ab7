"""Writes an Outlet model manifest.json in the house layout: one top-level key per line, small
objects and arrays inline, the segments and exits one entry per line."""
import json


def _inline(v):
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)}: {_inline(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_inline(x) for x in v) + "]"
    return json.dumps(v)


def dumps_manifest(manifest):
    lines = []
    for key, value in manifest.items():
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            body = ",\n".join("    " + _inline(x) for x in value)
            lines.append(f"  {json.dumps(key)}: [\n{body}\n  ]")
        else:
            lines.append(f"  {json.dumps(key)}: {_inline(value)}")
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    assert json.loads(text) == manifest
    return text


def write_manifest(path, manifest):
    with open(path, "w") as f:
        f.write(dumps_manifest(manifest))


def dumps_compact(value, indent=0):
    """Indented JSON whose leaves (arrays of scalars, objects of scalars) stay on one line."""
    pad = "  " * indent

    def is_leaf(v):
        if isinstance(v, dict):
            return all(not isinstance(x, (dict, list)) for x in v.values())
        if isinstance(v, list):
            return all(not isinstance(x, (dict, list)) for x in v)
        return True

    if is_leaf(value):
        return _inline(value)
    inner = "  " * (indent + 1)
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {dumps_compact(x, indent + 1)}" for k, x in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    items = [f"{inner}{dumps_compact(x, indent + 1)}" for x in value]
    return "[\n" + ",\n".join(items) + f"\n{pad}]"
