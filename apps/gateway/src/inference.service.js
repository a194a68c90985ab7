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
exports.InferenceService = void 0;
var common_1 = require("@nestjs/common");
var bullmq_1 = require("@nestjs/bullmq");
var bullmq_2 = require("bullmq");
var node_crypto_1 = require("node:crypto");
var contracts_1 = require("@outlet/contracts");
var config_1 = require("@outlet/config");
var inference_request_1 = require("./inference-request");
var oip_response_1 = require("./oip-response");
/** Puts tasks on the models' inference queues and hears back when they finish. */
var InferenceService = function () {
    var _classDecorators = [(0, common_1.Injectable)()];
    var _classDescriptor;
    var _classExtraInitializers = [];
    var _classThis;
    var InferenceService = _classThis = /** @class */ (function () {
        function InferenceService_1(moduleRef, catalog, settings) {
            this.moduleRef = moduleRef;
            this.catalog = catalog;
            this.settings = settings;
            this.logger = new common_1.Logger(InferenceService.name);
            this.events = new Map();
        }
        InferenceService_1.prototype.onModuleInit = function () {
            return __awaiter(this, void 0, void 0, function () {
                var _loop_1, this_1, _i, _a, model;
                var _this = this;
                return __generator(this, function (_b) {
                    switch (_b.label) {
                        case 0:
                            _loop_1 = function (model) {
                                var events = new bullmq_2.QueueEvents((0, contracts_1.inferQueueName)(model), { connection: (0, config_1.bullConnection)(this_1.settings.redisUrl) });
                                events.on('error', function (err) { return _this.logger.warn("queue events of ".concat(model, ": ").concat(err.message)); });
                                this_1.events.set(model, events);
                            };
                            this_1 = this;
                            for (_i = 0, _a = this.catalog.names(); _i < _a.length; _i++) {
                                model = _a[_i];
                                _loop_1(model);
                            }
                            return [4 /*yield*/, Promise.all(__spreadArray([], this.events.values(), true).map(function (e) { return e.waitUntilReady(); }))];
                        case 1:
                            _b.sent();
                            return [2 /*return*/];
                    }
                });
            });
        };
        InferenceService_1.prototype.onApplicationShutdown = function () {
            return __awaiter(this, void 0, void 0, function () {
                return __generator(this, function (_a) {
                    switch (_a.label) {
                        case 0: return [4 /*yield*/, Promise.all(__spreadArray([], this.events.values(), true).map(function (e) { return e.close(); }))];
                        case 1:
                            _a.sent();
                            return [2 /*return*/];
                    }
                });
            });
        };
        InferenceService_1.prototype.queue = function (model) {
            return this.moduleRef.get((0, bullmq_1.getQueueToken)((0, contracts_1.inferQueueName)(model)), { strict: false });
        };
        /** Enqueue one task; the job id is the task id. */
        InferenceService_1.prototype.enqueue = function (model, request) {
            return __awaiter(this, void 0, void 0, function () {
                var taskId, data;
                var _a, _b;
                return __generator(this, function (_c) {
                    taskId = (0, node_crypto_1.randomUUID)();
                    data = {
                        model: model,
                        requestId: (_a = request.id) !== null && _a !== void 0 ? _a : taskId,
                        input: {
                            name: this.catalog.get(model).manifest.input.name,
                            shape: request.shape,
                            datatype: 'FP32',
                            dataBase64: (0, contracts_1.float32ToBase64)(request.data),
                        },
                        plan: (_b = request.plan) !== null && _b !== void 0 ? _b : this.settings.defaultPlan,
                        planSource: request.plan ? 'request' : 'default',
                        threshold: request.threshold,
                        enqueuedAt: (0, contracts_1.nowMs)(),
                    };
                    return [2 /*return*/, this.queue(model).add(contracts_1.JobName.Infer, data, {
                            jobId: taskId,
                            removeOnComplete: { count: this.settings.jobRetention },
                            removeOnFail: { count: this.settings.jobRetention },
                        })];
                });
            });
        };
        /** Run a task and wait for its answer (synchronous `/infer`). */
        InferenceService_1.prototype.infer = function (model, request, receivedAt) {
            return __awaiter(this, void 0, void 0, function () {
                var job, result, err_1, message;
                return __generator(this, function (_a) {
                    switch (_a.label) {
                        case 0: return [4 /*yield*/, this.enqueue(model, request)];
                        case 1:
                            job = _a.sent();
                            _a.label = 2;
                        case 2:
                            _a.trys.push([2, 4, , 5]);
                            return [4 /*yield*/, job.waitUntilFinished(this.events.get(model), this.settings.inferTimeoutMs)];
                        case 3:
                            result = _a.sent();
                            return [3 /*break*/, 5];
                        case 4:
                            err_1 = _a.sent();
                            message = err_1.message;
                            if (/timed out/i.test(message)) {
                                throw new inference_request_1.RequestError(504, "task ".concat(job.id, " did not finish within ").concat(this.settings.inferTimeoutMs, " ms (is a trunk worker serving '").concat(model, "'?); poll GET /v1/jobs/").concat(job.id));
                            }
                            throw new inference_request_1.RequestError(500, "task ".concat(job.id, " failed: ").concat(message));
                        case 5: return [2 /*return*/, (0, oip_response_1.toOipResponse)(result, (0, contracts_1.nowMs)() - receivedAt, this.catalog.get(model).manifest.labels)];
                    }
                });
            });
        };
        /** The state of an asynchronous task, with its answer once done. */
        InferenceService_1.prototype.jobStatus = function (id) {
            return __awaiter(this, void 0, void 0, function () {
                var _i, _a, model, queue, state, base, job, total;
                var _b;
                return __generator(this, function (_c) {
                    switch (_c.label) {
                        case 0:
                            _i = 0, _a = this.catalog.names();
                            _c.label = 1;
                        case 1:
                            if (!(_i < _a.length)) return [3 /*break*/, 5];
                            model = _a[_i];
                            queue = this.queue(model);
                            return [4 /*yield*/, queue.getJobState(id)];
                        case 2:
                            state = _c.sent();
                            if (state === 'unknown')
                                return [3 /*break*/, 4];
                            base = { id: id, model: model, state: state };
                            if (state !== 'completed' && state !== 'failed')
                                return [2 /*return*/, base];
                            return [4 /*yield*/, bullmq_2.Job.fromId(queue, id)];
                        case 3:
                            job = _c.sent();
                            if (!job)
                                return [3 /*break*/, 4]; // removed by retention just now
                            if (state === 'failed')
                                return [2 /*return*/, __assign(__assign({}, base), { error: job.failedReason })];
                            total = ((_b = job.finishedOn) !== null && _b !== void 0 ? _b : Date.now()) - job.timestamp;
                            return [2 /*return*/, __assign(__assign({}, base), { result: (0, oip_response_1.toOipResponse)(job.returnvalue, total, this.catalog.get(model).manifest.labels) })];
                        case 4:
                            _i++;
                            return [3 /*break*/, 1];
                        case 5: throw new inference_request_1.RequestError(404, "unknown job '".concat(id, "' (finished jobs are kept for the last ").concat(this.settings.jobRetention, " per model)"));
                    }
                });
            });
        };
        return InferenceService_1;
    }());
    __setFunctionName(_classThis, "InferenceService");
    (function () {
        var _metadata = typeof Symbol === "function" && Symbol.metadata ? Object.create(null) : void 0;
        __esDecorate(null, _classDescriptor = { value: _classThis }, _classDecorators, { kind: "class", name: _classThis.name, metadata: _metadata }, null, _classExtraInitializers);
        InferenceService = _classThis = _classDescriptor.value;
        if (_metadata) Object.defineProperty(_classThis, Symbol.metadata, { enumerable: true, configurable: true, writable: true, value: _metadata });
        __runInitializers(_classThis, _classExtraInitializers);
    })();
    return InferenceService = _classThis;
}();
exports.InferenceService = InferenceService;
