"use strict";
/** The manifest of a model package: a folder with `manifest.json` and one ONNX file per piece. */
var __extends = (this && this.__extends) || (function () {
    var extendStatics = function (d, b) {
        extendStatics = Object.setPrototypeOf ||
            ({ __proto__: [] } instanceof Array && function (d, b) { d.__proto__ = b; }) ||
            function (d, b) { for (var p in b) if (Object.prototype.hasOwnProperty.call(b, p)) d[p] = b[p]; };
        return extendStatics(d, b);
    };
    return function (d, b) {
        if (typeof b !== "function" && b !== null)
            throw new TypeError("Class extends value " + String(b) + " is not a constructor or null");
        extendStatics(d, b);
        function __() { this.constructor = d; }
        d.prototype = b === null ? Object.create(b) : (__.prototype = b.prototype, new __());
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.ManifestError = exports.SUPPORTED_DATATYPES = void 0;
exports.validateManifest = validateManifest;
exports.earlyExitCount = earlyExitCount;
exports.SUPPORTED_DATATYPES = ['FP32'];
var ManifestError = /** @class */ (function (_super) {
    __extends(ManifestError, _super);
    function ManifestError() {
        return _super !== null && _super.apply(this, arguments) || this;
    }
    return ManifestError;
}(Error));
exports.ManifestError = ManifestError;
var NAME_PATTERN = /^[a-z0-9][a-z0-9-_]*$/i;
function fail(field, problem) {
    throw new ManifestError("manifest field '".concat(field, "' ").concat(problem));
}
function isObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function requireString(obj, key, path) {
    var value = obj[key];
    if (typeof value !== 'string' || value.length === 0)
        fail(path, 'must be a non-empty string');
    return value;
}
function requireShape(value, path) {
    if (!Array.isArray(value) || value.length === 0)
        fail(path, 'must be a non-empty array of dimensions');
    value.forEach(function (d, i) {
        var ok = Number.isInteger(d) && (d > 0 || (i === 0 && d === -1));
        if (!ok)
            fail("".concat(path, "[").concat(i, "]"), 'must be a positive integer (-1 allowed only for the batch dimension)');
    });
    return value;
}
function requireTensor(value, path) {
    if (!isObject(value))
        fail(path, 'must be an object with name, datatype and shape');
    var name = requireString(value, 'name', "".concat(path, ".name"));
    var datatype = requireString(value, 'datatype', "".concat(path, ".datatype"));
    if (!exports.SUPPORTED_DATATYPES.includes(datatype)) {
        fail("".concat(path, ".datatype"), "is '".concat(datatype, "'; supported: ").concat(exports.SUPPORTED_DATATYPES.join(', ')));
    }
    var shape = requireShape(value.shape, "".concat(path, ".shape"));
    return { name: name, datatype: 'FP32', shape: shape };
}
function requireFile(obj, path) {
    var file = requireString(obj, 'file', "".concat(path, ".file"));
    if (file.includes('..') || file.startsWith('/'))
        fail("".concat(path, ".file"), 'must be a file name inside the package');
    if (!file.endsWith('.onnx'))
        fail("".concat(path, ".file"), 'must name an .onnx file');
    return file;
}
/** Validate a parsed manifest; every error names the field at fault. */
function validateManifest(raw) {
    if (!isObject(raw))
        fail('(root)', 'must be a JSON object');
    var name = requireString(raw, 'name', 'name');
    if (!NAME_PATTERN.test(name))
        fail('name', 'may hold only letters, digits, - and _');
    var version = requireString(raw, 'version', 'version');
    var input = requireTensor(raw.input, 'input');
    var output = requireTensor(raw.output, 'output');
    if (!Array.isArray(raw.segments) || raw.segments.length === 0)
        fail('segments', 'must be a non-empty array');
    var segments = raw.segments.map(function (s, i) {
        var path = "segments[".concat(i, "]");
        if (!isObject(s))
            fail(path, 'must be an object');
        return { file: requireFile(s, path), output_shape: requireShape(s.output_shape, "".concat(path, ".output_shape")) };
    });
    if (!Array.isArray(raw.exits) || raw.exits.length === 0)
        fail('exits', 'must be a non-empty array');
    var exits = raw.exits.map(function (e, i) {
        var path = "exits[".concat(i, "]");
        if (!isObject(e))
            fail(path, 'must be an object');
        var after = e.after_segment;
        if (!Number.isInteger(after) || after < 0 || after >= segments.length) {
            fail("".concat(path, ".after_segment"), "must be a segment index from 0 to ".concat(segments.length - 1));
        }
        var threshold = e.threshold;
        if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
            fail("".concat(path, ".threshold"), 'must be a number from 0 to 1');
        }
        return { file: requireFile(e, path), after_segment: after, threshold: threshold };
    });
    exits.forEach(function (e, i) {
        if (i > 0 && e.after_segment <= exits[i - 1].after_segment) {
            fail("exits[".concat(i, "].after_segment"), 'must be greater than the previous exit\'s (one exit per segment at most, in order)');
        }
    });
    if (exits[exits.length - 1].after_segment !== segments.length - 1) {
        fail("exits[".concat(exits.length - 1, "].after_segment"), 'must be the last segment: the final exit follows the last segment');
    }
    var labels;
    if (raw.labels !== undefined) {
        if (!Array.isArray(raw.labels) || raw.labels.some(function (l) { return typeof l !== 'string'; }))
            fail('labels', 'must be an array of strings');
        labels = raw.labels;
        var classes = output.shape[output.shape.length - 1];
        if (labels.length !== classes)
            fail('labels', "has ".concat(labels.length, " entries but the output has ").concat(classes, " classes"));
    }
    var description = typeof raw.description === 'string' ? raw.description : undefined;
    return { name: name, version: version, description: description, input: input, output: output, labels: labels, segments: segments, exits: exits };
}
/** Number of early exits (every exit but the final one). */
function earlyExitCount(manifest) {
    return manifest.exits.length - 1;
}
