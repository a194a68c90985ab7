"use strict";
var __spreadArray = (this && this.__spreadArray) || function (to, from, pack) {
    if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) {
        if (ar || !(i in from)) {
            if (!ar) ar = Array.prototype.slice.call(from, 0, i);
            ar[i] = from[i];
        }
    }
    return to.concat(ar || Array.prototype.slice.call(from));
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.MANIFEST_FILE = void 0;
exports.loadModelPackage = loadModelPackage;
exports.loadModelPackages = loadModelPackages;
exports.readPackageJson = readPackageJson;
var node_fs_1 = require("node:fs");
var node_path_1 = require("node:path");
var manifest_1 = require("./manifest");
exports.MANIFEST_FILE = 'manifest.json';
function loadModelPackage(dir) {
    var path = (0, node_path_1.join)(dir, exports.MANIFEST_FILE);
    var raw;
    try {
        raw = JSON.parse((0, node_fs_1.readFileSync)(path, 'utf8'));
    }
    catch (err) {
        throw new manifest_1.ManifestError("cannot read ".concat(path, ": ").concat(err.message));
    }
    var manifest;
    try {
        manifest = (0, manifest_1.validateManifest)(raw);
    }
    catch (err) {
        throw new manifest_1.ManifestError("".concat(path, ": ").concat(err.message));
    }
    for (var _i = 0, _a = __spreadArray(__spreadArray([], manifest.segments, true), manifest.exits, true); _i < _a.length; _i++) {
        var piece = _a[_i];
        if (!(0, node_fs_1.existsSync)((0, node_path_1.join)(dir, piece.file)))
            throw new manifest_1.ManifestError("".concat(path, ": file '").concat(piece.file, "' is missing"));
    }
    return { dir: dir, manifest: manifest };
}
/** Every model package directly under `modelsDir` (folders holding a manifest.json), by name. */
function loadModelPackages(modelsDir) {
    if (!(0, node_fs_1.existsSync)(modelsDir) || !(0, node_fs_1.statSync)(modelsDir).isDirectory()) {
        throw new manifest_1.ManifestError("models folder ".concat(modelsDir, " does not exist"));
    }
    var packages = new Map();
    for (var _i = 0, _a = (0, node_fs_1.readdirSync)(modelsDir).sort(); _i < _a.length; _i++) {
        var entry = _a[_i];
        var dir = (0, node_path_1.join)(modelsDir, entry);
        if (!(0, node_fs_1.statSync)(dir).isDirectory() || !(0, node_fs_1.existsSync)((0, node_path_1.join)(dir, exports.MANIFEST_FILE)))
            continue;
        var pkg = loadModelPackage(dir);
        if (packages.has(pkg.manifest.name)) {
            throw new manifest_1.ManifestError("two packages in ".concat(modelsDir, " are named '").concat(pkg.manifest.name, "'"));
        }
        packages.set(pkg.manifest.name, pkg);
    }
    if (packages.size === 0)
        throw new manifest_1.ManifestError("no model package (folder with ".concat(exports.MANIFEST_FILE, ") in ").concat(modelsDir));
    return packages;
}
/** Read an optional JSON file of the package (profile.json, calibration.json, plans.json). */
function readPackageJson(pkg, file) {
    var path = (0, node_path_1.join)(pkg.dir, file);
    if (!(0, node_fs_1.existsSync)(path))
        return undefined;
    return JSON.parse((0, node_fs_1.readFileSync)(path, 'utf8'));
}
