"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.defaultPredictorPath = defaultPredictorPath;
exports.loadPredictor = loadPredictor;
exports.stageTimes = stageTimes;
var node_fs_1 = require("node:fs");
var node_path_1 = require("node:path");
var profiler_1 = require("@outlet/profiler");
var features_1 = require("./features");
var predictor_1 = require("./predictor");
/** Where `outlet predictor fit` writes and loadPredictor() reads: models/predictor.json under the working directory, or $OUTLET_PREDICTOR. */
function defaultPredictorPath() {
    return process.env.OUTLET_PREDICTOR || (0, node_path_1.resolve)(process.cwd(), 'models', 'predictor.json');
}
/** Load a fitted predictor (default path: defaultPredictorPath()); undefined if the file does not exist. */
function loadPredictor(path) {
    var p = path !== null && path !== void 0 ? path : defaultPredictorPath();
    if (!(0, node_fs_1.existsSync)(p))
        return undefined;
    var parsed = JSON.parse((0, node_fs_1.readFileSync)(p, 'utf8'));
    if (parsed.format !== 1 || !parsed.models)
        throw new Error("".concat(p, " is not a fitted predictor (format 1)"));
    return parsed;
}
var featureCache = new Map();
function featuresFor(path) {
    var f = featureCache.get(path);
    if (!f) {
        f = (0, features_1.featuresOfModel)(path).features;
        featureCache.set(path, f);
    }
    return f;
}
/**
 * Stage times for a package: from its profile.json where measured (interpolating u between levels), else predicted. trunkEp is the trunk's EP ('cpu'|'webgpu'|'cuda'); branch heads always on 'cpu'.
 *
 * `source` is 'profile' when every time came from profile.json, else 'predictor' (some or all
 * were predicted). Throws when a time is neither profiled nor predictable (no predictor given,
 * or the predictor has no model for that provider).
 */
function stageTimes(pkg, trunkEp, cpuUtil, predictor) {
    var profile = (0, profiler_1.readProfile)(pkg);
    var predicted = false;
    var time = function (piece, index, file, ep) {
        var measured = profile ? (0, profiler_1.profiledTime)(profile, piece, index, ep, cpuUtil) : undefined;
        if (measured !== undefined)
            return measured;
        if (!predictor) {
            throw new Error("".concat(pkg.manifest.name, ": ").concat(piece, " ").concat(index, " on '").concat(ep, "' is not in profile.json and no predictor was given (run `outlet profile` or `outlet predictor fit`)"));
        }
        predicted = true;
        return (0, predictor_1.predictMs)(predictor, ep, featuresFor((0, node_path_1.join)(pkg.dir, file)), cpuUtil);
    };
    var m = pkg.manifest;
    var segments = m.segments.map(function (s, i) { return time('segment', i, s.file, trunkEp); });
    var trunkHeads = m.exits.map(function (e, i) { return time('exit', i, e.file, trunkEp); });
    var branchHeads = m.exits.map(function (e, i) { return time('exit', i, e.file, 'cpu'); });
    return { segments: segments, trunkHeads: trunkHeads, branchHeads: branchHeads, source: predicted ? 'predictor' : 'profile' };
}
