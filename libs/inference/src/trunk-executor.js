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
Object.defineProperty(exports, "__esModule", { value: true });
exports.runTrunk = runTrunk;
var contracts_1 = require("@outlet/contracts");
var exit_rule_1 = require("./exit-rule");
/**
 * Run a task's trunk: segments in order; after each, the exit that follows it runs inline
 * (`trunk`), is handed off (`branch`) or is skipped, as the plan says; the final exit always runs
 * inline. Before every segment, an early exit decided by a branch head stops the trunk.
 */
function runTrunk(model, input, plan, thresholds, hooks) {
    return __awaiter(this, void 0, void 0, function () {
        var finalExit, segmentsRan, segmentStarts, busy, timed, finish, feature, _loop_1, segment, state_1;
        var _this = this;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    finalExit = model.manifest.exits.length - 1;
                    segmentsRan = [];
                    segmentStarts = [];
                    busy = [];
                    timed = function (work) { return __awaiter(_this, void 0, void 0, function () {
                        var start, result;
                        return __generator(this, function (_a) {
                            switch (_a.label) {
                                case 0:
                                    start = (0, contracts_1.nowMs)();
                                    return [4 /*yield*/, work()];
                                case 1:
                                    result = _a.sent();
                                    busy.push([start, (0, contracts_1.nowMs)()]);
                                    return [2 /*return*/, result];
                            }
                        });
                    }); };
                    finish = function (decision) {
                        var trunkStoppedAt = (0, contracts_1.nowMs)();
                        var abortReactionMs;
                        if (decision.worker === 'branch') {
                            var inFlight = busy.find(function (_a) {
                                var start = _a[0], end = _a[1];
                                return start <= decision.decidedAt && decision.decidedAt < end;
                            });
                            abortReactionMs = trunkStoppedAt - (inFlight ? inFlight[1] : decision.decidedAt);
                        }
                        return {
                            decision: decision,
                            segmentsRan: segmentsRan,
                            segmentsAfterAnswer: segmentStarts.filter(function (t) { return t > decision.decidedAt; }).length,
                            trunkStoppedAt: trunkStoppedAt,
                            abortReactionMs: abortReactionMs,
                        };
                    };
                    feature = input;
                    _loop_1 = function (segment) {
                        var early, input_1, exitIndex, placement, head_1, probabilities, decidedAt, mine, early, _b;
                        return __generator(this, function (_c) {
                            switch (_c.label) {
                                case 0:
                                    if (!plan.includes('branch')) return [3 /*break*/, 2];
                                    return [4 /*yield*/, hooks.pollEarlyExit()];
                                case 1:
                                    early = _c.sent();
                                    if (early)
                                        return [2 /*return*/, { value: finish(early) }];
                                    _c.label = 2;
                                case 2:
                                    segmentStarts.push((0, contracts_1.nowMs)());
                                    input_1 = feature;
                                    return [4 /*yield*/, timed(function () { return model.runSegment(segment, input_1); })];
                                case 3:
                                    feature = _c.sent();
                                    segmentsRan.push(segment);
                                    exitIndex = model.exitAfterSegment(segment);
                                    if (exitIndex === undefined)
                                        return [2 /*return*/, "continue"];
                                    placement = exitIndex === finalExit ? 'trunk' : plan[exitIndex];
                                    if (!(placement === 'branch')) return [3 /*break*/, 5];
                                    return [4 /*yield*/, hooks.handOff(exitIndex, feature)];
                                case 4:
                                    _c.sent();
                                    return [3 /*break*/, 10];
                                case 5:
                                    if (!(placement === 'trunk')) return [3 /*break*/, 10];
                                    head_1 = feature;
                                    return [4 /*yield*/, timed(function () { return model.runExit(exitIndex, head_1); })];
                                case 6:
                                    probabilities = _c.sent();
                                    decidedAt = (0, contracts_1.nowMs)();
                                    if (!(exitIndex === finalExit || (0, exit_rule_1.isConfident)(probabilities, thresholds[exitIndex]))) return [3 /*break*/, 10];
                                    mine = {
                                        exitIndex: exitIndex,
                                        probabilities: probabilities,
                                        confidence: (0, exit_rule_1.maxProbability)(probabilities),
                                        worker: 'trunk',
                                        decidedAt: decidedAt,
                                    };
                                    if (!plan.includes('branch')) return [3 /*break*/, 8];
                                    return [4 /*yield*/, hooks.pollEarlyExit()];
                                case 7:
                                    _b = _c.sent();
                                    return [3 /*break*/, 9];
                                case 8:
                                    _b = undefined;
                                    _c.label = 9;
                                case 9:
                                    early = _b;
                                    return [2 /*return*/, { value: finish(early && early.decidedAt < decidedAt ? early : mine) }];
                                case 10: return [2 /*return*/];
                            }
                        });
                    };
                    segment = 0;
                    _a.label = 1;
                case 1:
                    if (!(segment < model.manifest.segments.length)) return [3 /*break*/, 4];
                    return [5 /*yield**/, _loop_1(segment)];
                case 2:
                    state_1 = _a.sent();
                    if (typeof state_1 === "object")
                        return [2 /*return*/, state_1.value];
                    _a.label = 3;
                case 3:
                    segment++;
                    return [3 /*break*/, 1];
                case 4: throw new Error("".concat(model.manifest.name, ": the final exit does not follow the last segment"));
            }
        });
    });
}
