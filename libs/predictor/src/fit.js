"use strict";
var __assign = (this && this.__assign) || function () {
    __assign = Object.assign || function(t) {
        for (var s, i = 1, n = arguments.length; i < n; i++) {
            s = arguments[i];
            for (var p in s) if (Object.prototype.hasOwnProperty.call(s, p))
                t[p] = s[p];
        }
        return t;
    };
    return __assign.apply(this, arguments);
};
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
exports.FIT_QUICK = exports.FIT_DEFAULTS = void 0;
exports.fitFromZoo = fitFromZoo;
exports.refit = refit;
var profiler_1 = require("@outlet/profiler");
var features_1 = require("./features");
var predictor_1 = require("./predictor");
var features_2 = require("./features");
var zoo_1 = require("./zoo");
exports.FIT_DEFAULTS = { count: 84, seed: 42, holdoutShare: 0.3, levels: [0, 0.25, 0.5, 0.75, 0.9], runs: 21, warmup: 3, threads: 1, maxMsPerModel: 250 };
exports.FIT_QUICK = __assign(__assign({}, exports.FIT_DEFAULTS), { count: 42, levels: [0, 0.5, 0.9], runs: 11, maxMsPerModel: 120 });
/**
 * Generate the zoo, measure every model on every provider that works at every utilization level
 * (under the load generator), split by a fixed seed into fit and held-out sets, fit, evaluate.
 */
function fitFromZoo() {
    return __awaiter(this, arguments, void 0, function (options) {
        var o, zoo, split, _a, available, unavailable, _i, _b, _c, ep, why, entries, targets, sessions, _d, available_1, ep, i, session, err_1, load, sweep, _e, targets_1, t, summaries, achievedByLevel_1, achieved, predictor;
        var _f, _g, _h;
        if (options === void 0) { options = {}; }
        return __generator(this, function (_j) {
            switch (_j.label) {
                case 0:
                    o = __assign(__assign({}, exports.FIT_DEFAULTS), options);
                    zoo = (0, zoo_1.generateZoo)({ count: o.count, seed: o.seed });
                    split = (0, zoo_1.splitIds)(zoo.map(function (m) { return m.id; }), o.holdoutShare, o.seed);
                    return [4 /*yield*/, (0, profiler_1.probeProviders)(zoo[0].bytes, o.threads, (_f = o.eps) !== null && _f !== void 0 ? _f : profiler_1.PROFILED_EPS)];
                case 1:
                    _a = _j.sent(), available = _a.available, unavailable = _a.unavailable;
                    for (_i = 0, _b = Object.entries(unavailable); _i < _b.length; _i++) {
                        _c = _b[_i], ep = _c[0], why = _c[1];
                        (_g = o.onNote) === null || _g === void 0 ? void 0 : _g.call(o, "execution provider '".concat(ep, "' skipped: ").concat(why));
                    }
                    entries = zoo.map(function (m) {
                        var _a = (0, features_1.featuresOfModel)(m.bytes), features = _a.features, cost = _a.cost;
                        return {
                            id: m.id,
                            family: m.family,
                            description: m.description,
                            set: split.holdout.has(m.id) ? 'holdout' : 'fit',
                            features: features.map(function (f) { return (0, profiler_1.round)(f, 6); }),
                            mflop: (0, profiler_1.round)(cost.flops / 1e6, 5),
                            median_ms: {},
                            spread_ms: {},
                        };
                    });
                    targets = [];
                    sessions = [];
                    _j.label = 2;
                case 2:
                    _j.trys.push([2, , 13, 15]);
                    _d = 0, available_1 = available;
                    _j.label = 3;
                case 3:
                    if (!(_d < available_1.length)) return [3 /*break*/, 11];
                    ep = available_1[_d];
                    i = 0;
                    _j.label = 4;
                case 4:
                    if (!(i < zoo.length)) return [3 /*break*/, 10];
                    session = void 0;
                    _j.label = 5;
                case 5:
                    _j.trys.push([5, 7, , 8]);
                    return [4 /*yield*/, (0, profiler_1.openSession)(zoo[i].bytes, ep, o.threads)];
                case 6:
                    session = _j.sent();
                    return [3 /*break*/, 8];
                case 7:
                    err_1 = _j.sent();
                    (_h = o.onNote) === null || _h === void 0 ? void 0 : _h.call(o, "".concat(zoo[i].id, " does not open on ").concat(ep, ": ").concat(err_1.message.split('\n')[0]));
                    return [3 /*break*/, 9];
                case 8:
                    sessions.push(session);
                    targets.push({ key: "".concat(ep, ":").concat(zoo[i].id), session: session, feeds: (0, profiler_1.randomFeeds)(zoo[i].bytes, i + 1), ep: ep, entry: entries[i] });
                    _j.label = 9;
                case 9:
                    i++;
                    return [3 /*break*/, 4];
                case 10:
                    _d++;
                    return [3 /*break*/, 3];
                case 11:
                    load = new profiler_1.LoadGenerator();
                    return [4 /*yield*/, (0, profiler_1.sweepLevels)(targets, {
                            levels: o.levels,
                            warmup: o.warmup,
                            runs: o.runs,
                            maxMsPerTarget: o.maxMsPerModel,
                            load: load,
                            onProgress: o.onProgress,
                        })];
                case 12:
                    sweep = _j.sent();
                    for (_e = 0, targets_1 = targets; _e < targets_1.length; _e++) {
                        t = targets_1[_e];
                        summaries = sweep.results.get(t.key);
                        t.entry.median_ms[t.ep] = summaries.map(function (s) { return (0, profiler_1.round)(s.median, 5); });
                        t.entry.spread_ms[t.ep] = summaries.map(function (s) { return [(0, profiler_1.round)(s.p10, 4), (0, profiler_1.round)(s.p90, 4)]; });
                    }
                    achievedByLevel_1 = sweep.levels.map(function (l) { return (0, profiler_1.round)(l.achieved_util, 3); });
                    achieved = Object.fromEntries(available.map(function (ep) { return [ep, achievedByLevel_1]; }));
                    predictor = {
                        format: 1,
                        created_at: new Date().toISOString(),
                        machine: (0, profiler_1.describeMachine)(),
                        threads: o.threads,
                        feature_names: __spreadArray([], features_2.FEATURE_NAMES, true),
                        levels: o.levels,
                        models: (0, predictor_1.fitPredictor)(entries, o.levels, achieved),
                        zoo: { seed: o.seed, holdout_share: o.holdoutShare, runs: o.runs, warmup: o.warmup, entries: entries },
                        unavailable_eps: unavailable,
                    };
                    predictor.evaluation = (0, predictor_1.evaluatePredictor)(predictor);
                    return [2 /*return*/, predictor];
                case 13: return [4 /*yield*/, Promise.all(sessions.map(function (s) { return s.release(); }))];
                case 14:
                    _j.sent();
                    return [7 /*endfinally*/];
                case 15: return [2 /*return*/];
            }
        });
    });
}
/** Refit from the zoo measurements stored in a predictor (e.g. after changing the fitting code). */
function refit(predictor) {
    if (!predictor.zoo)
        throw new Error('the predictor holds no zoo measurements to refit from');
    var achieved = Object.fromEntries(Object.entries(predictor.models).map(function (_a) {
        var ep = _a[0], ls = _a[1];
        return [ep, ls.map(function (l) { return l.achieved_util; })];
    }));
    var refitted = __assign(__assign({}, predictor), { models: (0, predictor_1.fitPredictor)(predictor.zoo.entries, predictor.levels, achieved) });
    refitted.evaluation = (0, predictor_1.evaluatePredictor)(refitted);
    return refitted;
}
