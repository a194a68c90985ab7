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
exports.MultiExitModel = void 0;
var node_path_1 = require("node:path");
var ort = require("onnxruntime-node");
var execution_provider_1 = require("./execution-provider");
function openSession(path, ep, threads) {
    return __awaiter(this, void 0, void 0, function () {
        return __generator(this, function (_a) {
            return [2 /*return*/, ort.InferenceSession.create(path, (0, execution_provider_1.sessionOptions)(ep, threads))];
        });
    });
}
function runSingle(session, input) {
    return __awaiter(this, void 0, void 0, function () {
        var feeds, results, out;
        var _a;
        return __generator(this, function (_b) {
            switch (_b.label) {
                case 0:
                    feeds = (_a = {}, _a[session.inputNames[0]] = new ort.Tensor('float32', input.data, input.dims), _a);
                    return [4 /*yield*/, session.run(feeds)];
                case 1:
                    results = _b.sent();
                    out = results[session.outputNames[0]];
                    return [2 /*return*/, { data: out.data, dims: __spreadArray([], out.dims, true) }];
            }
        });
    });
}
/**
 * The ONNX sessions of one model package: the trunk segments and the exit heads a process needs,
 * each with one input and one output.
 */
var MultiExitModel = /** @class */ (function () {
    function MultiExitModel(pkg, ep, segments, exits) {
        this.pkg = pkg;
        this.ep = ep;
        this.segments = segments;
        this.exits = exits;
    }
    /** Open the chosen pieces (by default all) on one execution provider. */
    MultiExitModel.load = function (pkg_1, ep_1, threads_1) {
        return __awaiter(this, arguments, void 0, function (pkg, ep, threads, pieces) {
            var _a, segments, _b, exits, m, open, segmentSessions, exitSessions;
            if (pieces === void 0) { pieces = {}; }
            return __generator(this, function (_c) {
                switch (_c.label) {
                    case 0:
                        _a = pieces.segments, segments = _a === void 0 ? true : _a, _b = pieces.exits, exits = _b === void 0 ? 'all' : _b;
                        m = pkg.manifest;
                        open = function (file) { return openSession((0, node_path_1.join)(pkg.dir, file), ep, threads); };
                        return [4 /*yield*/, Promise.all(m.segments.map(function (s) { return (segments ? open(s.file) : undefined); }))];
                    case 1:
                        segmentSessions = _c.sent();
                        return [4 /*yield*/, Promise.all(m.exits.map(function (e, i) {
                                var wanted = exits === 'all' || (exits === 'early' && i < m.exits.length - 1);
                                return wanted ? open(e.file) : undefined;
                            }))];
                    case 2:
                        exitSessions = _c.sent();
                        return [2 /*return*/, new MultiExitModel(pkg, ep, segmentSessions, exitSessions)];
                }
            });
        });
    };
    Object.defineProperty(MultiExitModel.prototype, "manifest", {
        get: function () {
            return this.pkg.manifest;
        },
        enumerable: false,
        configurable: true
    });
    MultiExitModel.prototype.runSegment = function (index, input) {
        return __awaiter(this, void 0, void 0, function () {
            var session;
            return __generator(this, function (_a) {
                session = this.segments[index];
                if (!session)
                    throw new Error("segment ".concat(index, " of ").concat(this.manifest.name, " is not loaded here"));
                return [2 /*return*/, runSingle(session, input)];
            });
        });
    };
    /** Run exit head `index` on a feature; returns its softmax probabilities. */
    MultiExitModel.prototype.runExit = function (index, feature) {
        return __awaiter(this, void 0, void 0, function () {
            var session;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        session = this.exits[index];
                        if (!session)
                            throw new Error("exit head ".concat(index, " of ").concat(this.manifest.name, " is not loaded here"));
                        return [4 /*yield*/, runSingle(session, feature)];
                    case 1: return [2 /*return*/, (_a.sent()).data];
                }
            });
        });
    };
    /** Index of the exit that follows segment `segment`, if any. */
    MultiExitModel.prototype.exitAfterSegment = function (segment) {
        var i = this.manifest.exits.findIndex(function (e) { return e.after_segment === segment; });
        return i < 0 ? undefined : i;
    };
    MultiExitModel.prototype.release = function () {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, Promise.all(__spreadArray(__spreadArray([], this.segments, true), this.exits, true).map(function (s) { return s === null || s === void 0 ? void 0 : s.release(); }))];
                    case 1:
                        _a.sent();
                        return [2 /*return*/];
                }
            });
        });
    };
    return MultiExitModel;
}());
exports.MultiExitModel = MultiExitModel;
