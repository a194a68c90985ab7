"use strict";
var __runInitializers = (this && this.__runInitializers) || function (thisArg, initializers, value) {
    var useValue = arguments.length > 2;
    for (var i = 0; i < initializers.length; i++) {
        value = useValue ? initializers[i].call(thisArg, value) : initializers[i].call(thisArg);
    }
    return useValue ? value : void 0;
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
exports.InferenceController = void 0;
var common_1 = require("@nestjs/common");
var contracts_1 = require("@outlet/contracts");
var inference_request_1 = require("./inference-request");
var receivedAt = function (req) { var _a; return (_a = req.receivedAt) !== null && _a !== void 0 ? _a : (0, contracts_1.nowMs)(); };
/** The Open Inference Protocol v2 (KServe / Triton HTTP): health, metadata, infer. */
var InferenceController = function () {
    var _classDecorators = [(0, common_1.Controller)('v2')];
    var _classDescriptor;
    var _classExtraInitializers = [];
    var _classThis;
    var _instanceExtraInitializers = [];
    var _serverMetadata_decorators;
    var _live_decorators;
    var _ready_decorators;
    var _metadata_decorators;
    var _modelReady_decorators;
    var _infer_decorators;
    var _inferVersion_decorators;
    var InferenceController = _classThis = /** @class */ (function () {
        function InferenceController_1(catalog, inference, nodes, redis, settings) {
            this.catalog = (__runInitializers(this, _instanceExtraInitializers), catalog);
            this.inference = inference;
            this.nodes = nodes;
            this.redis = redis;
            this.settings = settings;
        }
        InferenceController_1.prototype.serverMetadata = function () {
            return { name: 'outlet', version: '0.1.0', extensions: [] };
        };
        InferenceController_1.prototype.live = function () {
            return { live: true };
        };
        InferenceController_1.prototype.ready = function () {
            return __awaiter(this, void 0, void 0, function () {
                var err_1;
                return __generator(this, function (_a) {
                    switch (_a.label) {
                        case 0:
                            _a.trys.push([0, 2, , 3]);
                            return [4 /*yield*/, this.redis.ping()];
                        case 1:
                            _a.sent();
                            return [3 /*break*/, 3];
                        case 2:
                            err_1 = _a.sent();
                            throw new inference_request_1.RequestError(503, "not ready: Redis does not answer (".concat(err_1.message, ")"));
                        case 3: return [2 /*return*/, { ready: true }];
                    }
                });
            });
        };
        InferenceController_1.prototype.metadata = function (name) {
            var _a, _b;
            var m = this.catalog.get(name).manifest;
            return {
                name: m.name,
                versions: [m.version],
                platform: 'outlet_multi_exit_onnx',
                inputs: [m.input],
                outputs: [m.output],
                parameters: {
                    description: (_a = m.description) !== null && _a !== void 0 ? _a : '',
                    exit_count: m.exits.length,
                    exit_thresholds: m.exits.map(function (e) { return e.threshold; }),
                    default_plan: this.settings.defaultPlan,
                    labels: (_b = m.labels) !== null && _b !== void 0 ? _b : [],
                },
            };
        };
        InferenceController_1.prototype.modelReady = function (name) {
            return __awaiter(this, void 0, void 0, function () {
                return __generator(this, function (_a) {
                    switch (_a.label) {
                        case 0:
                            this.catalog.get(name);
                            return [4 /*yield*/, this.nodes.isModelServed(name)];
                        case 1:
                            if (!(_a.sent())) {
                                throw new inference_request_1.RequestError(503, "model '".concat(name, "' is not ready: no live trunk worker serves it"));
                            }
                            return [2 /*return*/, { name: name, ready: true }];
                    }
                });
            });
        };
        InferenceController_1.prototype.infer = function (name, body, req) {
            var pkg = this.catalog.get(name);
            var request = (0, inference_request_1.validateInferRequest)(body, pkg.manifest);
            return this.inference.infer(name, request, receivedAt(req));
        };
        InferenceController_1.prototype.inferVersion = function (name, version, body, req) {
            var pkg = this.catalog.get(name);
            if (pkg.manifest.version !== version) {
                throw new inference_request_1.RequestError(404, "model '".concat(name, "' has no version '").concat(version, "' (served: ").concat(pkg.manifest.version, ")"));
            }
            return this.infer(name, body, req);
        };
        return InferenceController_1;
    }());
    __setFunctionName(_classThis, "InferenceController");
    (function () {
        var _metadata = typeof Symbol === "function" && Symbol.metadata ? Object.create(null) : void 0;
        _serverMetadata_decorators = [(0, common_1.Get)()];
        _live_decorators = [(0, common_1.Get)('health/live')];
        _ready_decorators = [(0, common_1.Get)('health/ready')];
        _metadata_decorators = [(0, common_1.Get)('models/:name')];
        _modelReady_decorators = [(0, common_1.Get)('models/:name/ready')];
        _infer_decorators = [(0, common_1.Post)('models/:name/infer'), (0, common_1.HttpCode)(200)];
        _inferVersion_decorators = [(0, common_1.Post)('models/:name/versions/:version/infer'), (0, common_1.HttpCode)(200)];
        __esDecorate(_classThis, null, _serverMetadata_decorators, { kind: "method", name: "serverMetadata", static: false, private: false, access: { has: function (obj) { return "serverMetadata" in obj; }, get: function (obj) { return obj.serverMetadata; } }, metadata: _metadata }, null, _instanceExtraInitializers);
        __esDecorate(_classThis, null, _live_decorators, { kind: "method", name: "live", static: false, private: false, access: { has: function (obj) { return "live" in obj; }, get: function (obj) { return obj.live; } }, metadata: _metadata }, null, _instanceExtraInitializers);
        __esDecorate(_classThis, null, _ready_decorators, { kind: "method", name: "ready", static: false, private: false, access: { has: function (obj) { return "ready" in obj; }, get: function (obj) { return obj.ready; } }, metadata: _metadata }, null, _instanceExtraInitializers);
        __esDecorate(_classThis, null, _metadata_decorators, { kind: "method", name: "metadata", static: false, private: false, access: { has: function (obj) { return "metadata" in obj; }, get: function (obj) { return obj.metadata; } }, metadata: _metadata }, null, _instanceExtraInitializers);
        __esDecorate(_classThis, null, _modelReady_decorators, { kind: "method", name: "modelReady", static: false, private: false, access: { has: function (obj) { return "modelReady" in obj; }, get: function (obj) { return obj.modelReady; } }, metadata: _metadata }, null, _instanceExtraInitializers);
        __esDecorate(_classThis, null, _infer_decorators, { kind: "method", name: "infer", static: false, private: false, access: { has: function (obj) { return "infer" in obj; }, get: function (obj) { return obj.infer; } }, metadata: _metadata }, null, _instanceExtraInitializers);
        __esDecorate(_classThis, null, _inferVersion_decorators, { kind: "method", name: "inferVersion", static: false, private: false, access: { has: function (obj) { return "inferVersion" in obj; }, get: function (obj) { return obj.inferVersion; } }, metadata: _metadata }, null, _instanceExtraInitializers);
        __esDecorate(null, _classDescriptor = { value: _classThis }, _classDecorators, { kind: "class", name: _classThis.name, metadata: _metadata }, null, _classExtraInitializers);
        InferenceController = _classThis = _classDescriptor.value;
        if (_metadata) Object.defineProperty(_classThis, Symbol.metadata, { enumerable: true, configurable: true, writable: true, value: _metadata });
        __runInitializers(_classThis, _classExtraInitializers);
    })();
    return InferenceController = _classThis;
}();
exports.InferenceController = InferenceController;
