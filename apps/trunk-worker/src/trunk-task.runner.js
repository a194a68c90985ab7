"use strict";
var __esDecorate = (this && this.__esDecorate) || function (ctor, descriptorIn, decorators, contextIn, initializers, extraInitializers) {
    function accept(f) { if (f !== void 0 && typeof f !== "function") throw new TypeError("Function expected"); return f; }
    var kind = contextIn.kind, key = kind === "getter" ? "get" : kind === "setter" ? "set" : "value";
    var target = !descriptorIn && ctor ? contextIn["static"] ? ctor : ctor.prototype : null;
    var descriptor = descriptorIn || (target ? Object.getOwnPropertyDescriptor(target, contextIn.name) : {});
    var _, done = false;
    for (var i = decorators.length - 1; i >= 0; i--) {
        var context = {};
        for (var p in contextIn) context[p] = p === "access" ? {} : contextIn[p];
        for (var p in contextIn.access) context.access[p] = contextIn.access[p];
        context.addInitializer = function (f) { if (done) throw new TypeError("Cannot add initializers after decoration has completed"); extraInitializers.push(accept(f || null)); };
        var result = (0, decorators[i])(kind === "accessor" ? { get: descriptor.get, set: descriptor.set } : descriptor[key], context);
        if (kind === "accessor") {
            if (result === void 0) continue;
            if (result === null || typeof result !== "object") throw new TypeError("Object expected");
            if (_ = accept(result.get)) descriptor.get = _;
            if (_ = accept(result.set)) descriptor.set = _;
            if (_ = accept(result.init)) initializers.unshift(_);
        }
        else if (_ = accept(result)) {
            if (kind === "field") initializers.unshift(_);
            else descriptor[key] = _;
        }
    }
    if (target) Object.defineProperty(target, contextIn.name, descriptor);
    done = true;
};
var __runInitializers = (this && this.__runInitializers) || function (thisArg, initializers, value) {
    var useValue = arguments.length > 2;
    for (var i = 0; i < initializers.length; i++) {
        value = useValue ? initializers[i].call(thisArg, value) : initializers[i].call(thisArg);
    }
    return useValue ? value : void 0;
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
var __setFunctionName = (this && this.__setFunctionName) || function (f, name, prefix) {
    if (typeof name === "symbol") name = name.description ? "[".concat(name.description, "]") : "";
    return Object.defineProperty(f, "name", { configurable: true, value: prefix ? "".concat(prefix, " ", name) : name });
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.TrunkTaskRunner = void 0;
var common_1 = require("@nestjs/common");
var bullmq_1 = require("bullmq");
var promises_1 = require("node:timers/promises");
var contracts_1 = require("@outlet/contracts");
var inference_1 = require("@outlet/inference");
var model_package_1 = require("@outlet/model-package");
/** Runs one task's trunk on this node and builds its answer. */
var TrunkTaskRunner = function () {
    var _classDecorators = [(0, common_1.Injectable)()];
    var _classDescriptor;
    var _classExtraInitializers = [];
    var _classThis;
    var TrunkTaskRunner = _classThis = /** @class */ (function () {
        function TrunkTaskRunner_1(settings, models, inbox, handOff, plans) {
            this.settings = settings;
            this.models = models;
            this.inbox = inbox;
            this.handOff = handOff;
            this.plans = plans;
        }
        TrunkTaskRunner_1.prototype.run = function (job) {
            return __awaiter(this, void 0, void 0, function () {
                var startedAt, taskId, data, model, m, input, shape, expected, choice, plan, thresholds, outcome, branchMs, decision, finishedAt;
                var _this = this;
                return __generator(this, function (_a) {
                    switch (_a.label) {
                        case 0:
                            startedAt = (0, contracts_1.nowMs)();
                            taskId = job.id;
                            data = job.data;
                            model = this.models.get(data === null || data === void 0 ? void 0 : data.model);
                            if (!model)
                                throw new bullmq_1.UnrecoverableError("task ".concat(taskId, ": model '").concat(data === null || data === void 0 ? void 0 : data.model, "' is not served by this worker"));
                            m = model.manifest;
                            try {
                                input = (0, contracts_1.base64ToFloat32)(data.input.dataBase64);
                            }
                            catch (err) {
                                throw new bullmq_1.UnrecoverableError("task ".concat(taskId, ": input is not base64 FP32: ").concat(err.message));
                            }
                            shape = data.input.shape;
                            expected = m.input.shape;
                            if (!Array.isArray(shape) ||
                                shape.length !== expected.length ||
                                shape.some(function (d, i) { return d !== (expected[i] === -1 ? 1 : expected[i]); }) ||
                                (0, contracts_1.elementCount)(shape) !== input.length) {
                                throw new bullmq_1.UnrecoverableError("task ".concat(taskId, ": input shape ").concat(JSON.stringify(shape), " with ").concat(input.length, " values does not fit [").concat(expected, "]"));
                            }
                            choice = data.plan === 'auto' ? this.plans.choose(m.name) : undefined;
                            try {
                                plan = choice ? choice.plan : (0, contracts_1.parsePlan)(String(data.plan), (0, model_package_1.earlyExitCount)(m));
                            }
                            catch (err) {
                                if (err instanceof contracts_1.PlanError)
                                    throw new bullmq_1.UnrecoverableError("task ".concat(taskId, ": ").concat(err.message));
                                throw err;
                            }
                            thresholds = m.exits.map(function (e) { var _a; return (_a = data.threshold) !== null && _a !== void 0 ? _a : e.threshold; });
                            this.inbox.open(taskId);
                            _a.label = 1;
                        case 1:
                            _a.trys.push([1, , 3, 4]);
                            return [4 /*yield*/, (0, inference_1.runTrunk)(model, { data: input, dims: shape }, plan, thresholds, {
                                    handOff: function (exitIndex, feature) { return _this.handOff.send(taskId, m.name, exitIndex, feature, thresholds[exitIndex]); },
                                    pollEarlyExit: function () { return __awaiter(_this, void 0, void 0, function () {
                                        var event, decision;
                                        return __generator(this, function (_a) {
                                            switch (_a.label) {
                                                case 0: 
                                                // session.run() holds the event loop; one turn lets pending pub/sub messages in.
                                                return [4 /*yield*/, (0, promises_1.setImmediate)()];
                                                case 1:
                                                    // session.run() holds the event loop; one turn lets pending pub/sub messages in.
                                                    _a.sent();
                                                    event = this.inbox.firstExit(taskId);
                                                    if (!(event === null || event === void 0 ? void 0 : event.probabilities))
                                                        return [2 /*return*/, undefined];
                                                    decision = {
                                                        exitIndex: event.exitIndex,
                                                        probabilities: event.probabilities,
                                                        confidence: event.confidence,
                                                        worker: 'branch',
                                                        decidedAt: event.decidedAt,
                                                    };
                                                    return [2 /*return*/, decision];
                                            }
                                        });
                                    }); },
                                })];
                        case 2:
                            outcome = _a.sent();
                            return [3 /*break*/, 4];
                        case 3:
                            if (plan.includes('branch'))
                                this.handOff.markDone(taskId);
                            return [7 /*endfinally*/];
                        case 4:
                            branchMs = this.inbox.close(taskId);
                            decision = outcome.decision;
                            finishedAt = (0, contracts_1.nowMs)();
                            return [2 /*return*/, {
                                    taskId: taskId,
                                    model: m.name,
                                    modelVersion: m.version,
                                    requestId: data.requestId,
                                    outputs: [
                                        {
                                            name: m.output.name,
                                            datatype: m.output.datatype,
                                            shape: [1, decision.probabilities.length],
                                            data: Array.from(decision.probabilities),
                                        },
                                    ],
                                    exitIndex: decision.exitIndex,
                                    exitCount: m.exits.length,
                                    exitConfidence: decision.confidence,
                                    exitWorker: decision.worker,
                                    trunkEp: model.ep,
                                    plan: plan,
                                    planSource: choice ? 'auto' : data.planSource,
                                    cpuUtil: choice === null || choice === void 0 ? void 0 : choice.cpuUtil,
                                    trunkSegmentsRun: outcome.segmentsRan.length,
                                    segmentsRan: outcome.segmentsRan,
                                    segmentsAfterAnswer: outcome.segmentsAfterAnswer,
                                    nodeId: this.settings.nodeId,
                                    timings: { queueMs: startedAt - data.enqueuedAt, trunkMs: finishedAt - startedAt, branchMs: branchMs },
                                    decidedAt: decision.decidedAt,
                                    trunkStoppedAt: outcome.trunkStoppedAt,
                                    abortReactionMs: outcome.abortReactionMs,
                                }];
                    }
                });
            });
        };
        return TrunkTaskRunner_1;
    }());
    __setFunctionName(_classThis, "TrunkTaskRunner");
    (function () {
        var _metadata = typeof Symbol === "function" && Symbol.metadata ? Object.create(null) : void 0;
        __esDecorate(null, _classDescriptor = { value: _classThis }, _classDecorators, { kind: "class", name: _classThis.name, metadata: _metadata }, null, _classExtraInitializers);
        TrunkTaskRunner = _classThis = _classDescriptor.value;
        if (_metadata) Object.defineProperty(_classThis, Symbol.metadata, { enumerable: true, configurable: true, writable: true, value: _metadata });
        __runInitializers(_classThis, _classExtraInitializers);
    })();
    return TrunkTaskRunner = _classThis;
}();
exports.TrunkTaskRunner = TrunkTaskRunner;
