"use strict";
var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
var __generator = (this && this.__generator) || function (thisArg, body) {
    var _ = { label: 0, sent: function() { if (t[0] & 1) throw t[1]; return t[1]; }, trys: [], ops: [] }, f, y, t, g = Object.create((typeof Iterator === "function" ? Iterator : Object).prototype);
    return g.next = verb(0), g["throw"] = verb(1), g["return"] = verb(2), typeof Symbol === "function" && (g[Symbol.iterator] = function() { return this; }), g;
    function verb(n) { return function (v) { return step([n, v]); }; }
    function step(op) {
        if (f) throw new TypeError("Generator is already executing.");
        while (g && (g = 0, op[0] && (_ = 0)), _) try {
            if (f = 1, y && (t = op[0] & 2 ? y["return"] : op[0] ? y["throw"] || ((t = y["return"]) && t.call(y), 0) : y.next) && !(t = t.call(y, op[1])).done) return t;
            if (y = 0, t) op = [op[0] & 2, t.value];
            switch (op[0]) {
                case 0: case 1: t = op; break;
                case 4: _.label++; return { value: op[1], done: false };
                case 5: _.label++; y = op[1]; op = [0]; continue;
                case 7: op = _.ops.pop(); _.trys.pop(); continue;
                default:
                    if (!(t = _.trys, t = t.length > 0 && t[t.length - 1]) && (op[0] === 6 || op[0] === 2)) { _ = 0; continue; }
                    if (op[0] === 3 && (!t || (op[1] > t[0] && op[1] < t[3]))) { _.label = op[1]; break; }
                    if (op[0] === 6 && _.label < t[1]) { _.label = t[1]; t = op; break; }
                    if (t && _.label < t[2]) { _.label = t[2]; _.ops.push(op); break; }
                    if (t[2]) _.ops.pop();
                    _.trys.pop(); continue;
            }
            op = body.call(thisArg, _);
        } catch (e) { op = [6, e]; y = 0; } finally { f = t = 0; }
        if (op[0] & 5) throw op[1]; return { value: op[0] ? op[1] : void 0, done: true };
    }
};
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
exports.DEFAULT_LEVELS = exports.PROFILE_FILE = void 0;
exports.profilePackage = profilePackage;
exports.writeProfile = writeProfile;
exports.readProfile = readProfile;
exports.profiledTime = profiledTime;
var node_fs_1 = require("node:fs");
var node_path_1 = require("node:path");
var model_package_1 = require("@outlet/model-package");
var load_generator_1 = require("./load-generator");
var machine_1 = require("./machine");
var interpolate_1 = require("./interpolate");
var measure_1 = require("./measure");
var stats_1 = require("./stats");
exports.PROFILE_FILE = 'profile.json';
exports.DEFAULT_LEVELS = [0, 0.25, 0.5, 0.75, 0.9];
/** Measure every segment and exit head of a package on every provider that works, at every level. */
function profilePackage(pkg_1) {
    return __awaiter(this, arguments, void 0, function (pkg, options) {
        var _a, levels, _b, runs, _c, warmup, _d, threads, _e, eps, _f, maxMsPerPiece, m, pieces, probe, _g, available, unavailable, _i, _h, _j, ep, why, targets, sessions, _k, available_1, ep, _l, pieces_1, p, path, session, load, sweep_1, measurements_1, _loop_1, _m, targets_1, t;
        var _o;
        if (options === void 0) { options = {}; }
        return __generator(this, function (_p) {
            switch (_p.label) {
                case 0:
                    _a = options.levels, levels = _a === void 0 ? exports.DEFAULT_LEVELS : _a, _b = options.runs, runs = _b === void 0 ? 50 : _b, _c = options.warmup, warmup = _c === void 0 ? 5 : _c, _d = options.threads, threads = _d === void 0 ? 1 : _d, _e = options.eps, eps = _e === void 0 ? measure_1.PROFILED_EPS : _e, _f = options.maxMsPerPiece, maxMsPerPiece = _f === void 0 ? 2000 : _f;
                    m = pkg.manifest;
                    pieces = __spreadArray(__spreadArray([], m.segments.map(function (s, index) { return ({ piece: 'segment', index: index, file: s.file }); }), true), m.exits.map(function (e, index) { return ({ piece: 'exit', index: index, file: e.file }); }), true);
                    probe = (0, node_path_1.join)(pkg.dir, m.segments[0].file);
                    return [4 /*yield*/, (0, measure_1.probeProviders)(probe, threads, eps)];
                case 1:
                    _g = _p.sent(), available = _g.available, unavailable = _g.unavailable;
                    for (_i = 0, _h = Object.entries(unavailable); _i < _h.length; _i++) {
                        _j = _h[_i], ep = _j[0], why = _j[1];
                        (_o = options.onNote) === null || _o === void 0 ? void 0 : _o.call(options, "execution provider '".concat(ep, "' skipped: ").concat(why));
                    }
                    targets = [];
                    sessions = [];
                    _k = 0, available_1 = available;
                    _p.label = 2;
                case 2:
                    if (!(_k < available_1.length)) return [3 /*break*/, 7];
                    ep = available_1[_k];
                    _l = 0, pieces_1 = pieces;
                    _p.label = 3;
                case 3:
                    if (!(_l < pieces_1.length)) return [3 /*break*/, 6];
                    p = pieces_1[_l];
                    path = (0, node_path_1.join)(pkg.dir, p.file);
                    return [4 /*yield*/, (0, measure_1.openSession)(path, ep, threads)];
                case 4:
                    session = _p.sent();
                    sessions.push(session);
                    targets.push({ key: "".concat(ep, ":").concat(p.piece, "-").concat(p.index), session: session, feeds: (0, measure_1.randomFeeds)(path, p.index + 1), piece: p, ep: ep });
                    _p.label = 5;
                case 5:
                    _l++;
                    return [3 /*break*/, 3];
                case 6:
                    _k++;
                    return [3 /*break*/, 2];
                case 7:
                    load = new load_generator_1.LoadGenerator({ periodMs: options.loadPeriodMs });
                    _p.label = 8;
                case 8:
                    _p.trys.push([8, , 10, 12]);
                    return [4 /*yield*/, (0, measure_1.sweepLevels)(targets, {
                            levels: levels,
                            warmup: warmup,
                            runs: runs,
                            maxMsPerTarget: maxMsPerPiece,
                            load: load,
                            onProgress: options.onProgress,
                        })];
                case 9:
                    sweep_1 = _p.sent();
                    measurements_1 = [];
                    _loop_1 = function (t) {
                        sweep_1.results.get(t.key).forEach(function (s, li) {
                            measurements_1.push({
                                piece: t.piece.piece,
                                index: t.piece.index,
                                file: t.piece.file,
                                ep: t.ep,
                                cpu_util: sweep_1.levels[li].cpu_util,
                                achieved_util: (0, stats_1.round)(sweep_1.levels[li].achieved_util, 3),
                                median_ms: (0, stats_1.round)(s.median),
                                p10_ms: (0, stats_1.round)(s.p10),
                                p90_ms: (0, stats_1.round)(s.p90),
                                min_ms: (0, stats_1.round)(s.min),
                                runs: s.n,
                            });
                        });
                    };
                    for (_m = 0, targets_1 = targets; _m < targets_1.length; _m++) {
                        t = targets_1[_m];
                        _loop_1(t);
                    }
                    return [2 /*return*/, {
                            format: 1,
                            model: m.name,
                            created_at: new Date().toISOString(),
                            machine: (0, machine_1.describeMachine)(),
                            threads: threads,
                            warmup: warmup,
                            runs: runs,
                            load: { threads: load.threads, period_ms: load.periodMs },
                            utilization_levels: levels,
                            achieved_utilization: sweep_1.levels.map(function (l) { return (0, stats_1.round)(l.achieved_util, 3); }),
                            eps: available,
                            unavailable_eps: unavailable,
                            measurements: measurements_1,
                        }];
                case 10: return [4 /*yield*/, Promise.all(sessions.map(function (s) { return s.release(); }))];
                case 11:
                    _p.sent();
                    return [7 /*endfinally*/];
                case 12: return [2 /*return*/];
            }
        });
    });
}
function writeProfile(pkg, profile) {
    var path = (0, node_path_1.join)(pkg.dir, exports.PROFILE_FILE);
    (0, node_fs_1.writeFileSync)(path, "".concat(JSON.stringify(profile, null, 2), "\n"));
    return path;
}
function readProfile(pkg) {
    return (0, model_package_1.readPackageJson)(pkg, exports.PROFILE_FILE);
}
/**
 * A piece's median time (ms) on `ep` at utilization `u`, interpolated linearly between the
 * measured levels (clamped outside them); undefined where the profile has no such measurement.
 */
function profiledTime(profile, piece, index, ep, u) {
    var points = profile.measurements
        .filter(function (x) { return x.piece === piece && x.index === index && x.ep === ep; })
        .map(function (x) { return ({ u: x.cpu_util, value: x.median_ms }); });
    return points.length ? (0, interpolate_1.interpolateOverUtilization)(points, u) : undefined;
}
