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
Object.defineProperty(exports, "__esModule", { value: true });
exports.ExitHeadRunner = void 0;
var common_1 = require("@nestjs/common");
var bullmq_1 = require("bullmq");
var ioredis_1 = require("ioredis");
var contracts_1 = require("@outlet/contracts");
var inference_1 = require("@outlet/inference");
/** Runs one exit-head subjob on the CPU and tells the node's trunk what the head decided. */
var ExitHeadRunner = function () {
    var _classDecorators = [(0, common_1.Injectable)()];
    var _classDescriptor;
    var _classExtraInitializers = [];
    var _classThis;
    var ExitHeadRunner = _classThis = /** @class */ (function () {
        function ExitHeadRunner_1(settings, models) {
            this.settings = settings;
            this.models = models;
        }
        ExitHeadRunner_1.prototype.onModuleInit = function () {
            this.redis = new ioredis_1.default(this.settings.redisUrl, { maxRetriesPerRequest: null });
        };
        ExitHeadRunner_1.prototype.onApplicationShutdown = function () {
            return __awaiter(this, void 0, void 0, function () {
                var _a;
                return __generator(this, function (_b) {
                    switch (_b.label) {
                        case 0: return [4 /*yield*/, ((_a = this.redis) === null || _a === void 0 ? void 0 : _a.quit().catch(function () { return undefined; }))];
                        case 1:
                            _b.sent();
                            return [2 /*return*/];
                    }
                });
            });
        };
        ExitHeadRunner_1.prototype.run = function (job) {
            return __awaiter(this, void 0, void 0, function () {
                var d, model, record, _a, _b, done, _c, bytes, handoffMs, feature, started, probabilities, decidedAt, exited, confidence, event;
                return __generator(this, function (_d) {
                    switch (_d.label) {
                        case 0:
                            d = job.data;
                            model = this.models.get(d === null || d === void 0 ? void 0 : d.model);
                            if (!model)
                                throw new bullmq_1.UnrecoverableError("subjob ".concat(job.id, ": model '").concat(d === null || d === void 0 ? void 0 : d.model, "' is not served by this branch worker"));
                            if (!Number.isInteger(d.exitIndex) || d.exitIndex < 0 || d.exitIndex >= model.manifest.exits.length - 1) {
                                throw new bullmq_1.UnrecoverableError("subjob ".concat(job.id, ": exit ").concat(d.exitIndex, " is not an early exit of ").concat(d.model));
                            }
                            record = { nodeId: this.settings.nodeId, trunkNodeId: d.trunkNodeId, taskId: d.taskId, exitIndex: d.exitIndex };
                            return [4 /*yield*/, this.redis.multi().get((0, contracts_1.taskDoneKey)(d.taskId)).getBuffer(d.featureKey).del(d.featureKey).exec()];
                        case 1:
                            _a = (_d.sent()), _b = _a[0], done = _b[1], _c = _a[1], bytes = _c[1];
                            handoffMs = (0, contracts_1.nowMs)() - d.handedOffAt;
                            if (done)
                                return [2 /*return*/, __assign(__assign({}, record), { outcome: 'dropped', handoffMs: handoffMs })];
                            if (!bytes)
                                throw new bullmq_1.UnrecoverableError("subjob ".concat(job.id, ": feature ").concat(d.featureKey, " is gone (expired?)"));
                            feature = (0, contracts_1.bufferToFloat32)(bytes);
                            if (!Array.isArray(d.featureShape) || (0, contracts_1.elementCount)(d.featureShape) !== feature.length) {
                                throw new bullmq_1.UnrecoverableError("subjob ".concat(job.id, ": feature of ").concat(feature.length, " values does not fit shape ").concat(JSON.stringify(d.featureShape)));
                            }
                            started = (0, contracts_1.nowMs)();
                            return [4 /*yield*/, model.runExit(d.exitIndex, { data: feature, dims: d.featureShape })];
                        case 2:
                            probabilities = _d.sent();
                            decidedAt = (0, contracts_1.nowMs)();
                            exited = (0, inference_1.isConfident)(probabilities, d.threshold);
                            confidence = (0, inference_1.maxProbability)(probabilities);
                            event = {
                                taskId: d.taskId,
                                exitIndex: d.exitIndex,
                                exited: exited,
                                confidence: confidence,
                                probabilities: exited ? Array.from(probabilities) : undefined,
                                headMs: decidedAt - started,
                                decidedAt: decidedAt,
                                branchNodeId: this.settings.nodeId,
                            };
                            return [4 /*yield*/, this.redis.publish((0, contracts_1.earlyExitChannel)(d.trunkNodeId), JSON.stringify(event))];
                        case 3:
                            _d.sent();
                            return [2 /*return*/, __assign(__assign({}, record), { outcome: exited ? 'exit' : 'continue', confidence: confidence, headMs: event.headMs, handoffMs: handoffMs })];
                    }
                });
            });
        };
        return ExitHeadRunner_1;
    }());
    __setFunctionName(_classThis, "ExitHeadRunner");
    (function () {
        var _metadata = typeof Symbol === "function" && Symbol.metadata ? Object.create(null) : void 0;
        __esDecorate(null, _classDescriptor = { value: _classThis }, _classDecorators, { kind: "class", name: _classThis.name, metadata: _metadata }, null, _classExtraInitializers);
        ExitHeadRunner = _classThis = _classDescriptor.value;
        if (_metadata) Object.defineProperty(_classThis, Symbol.metadata, { enumerable: true, configurable: true, writable: true, value: _metadata });
        __runInitializers(_classThis, _classExtraInitializers);
    })();
    return ExitHeadRunner = _classThis;
}();
exports.ExitHeadRunner = ExitHeadRunner;
