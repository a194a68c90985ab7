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
var __setFunctionName = (this && this.__setFunctionName) || function (f, name, prefix) {
    if (typeof name === "symbol") name = name.description ? "[".concat(name.description, "]") : "";
    return Object.defineProperty(f, "name", { configurable: true, value: prefix ? "".concat(prefix, " ", name) : name });
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.GatewayModule = void 0;
var common_1 = require("@nestjs/common");
var bullmq_1 = require("@nestjs/bullmq");
var config_1 = require("@outlet/config");
var contracts_1 = require("@outlet/contracts");
var model_catalog_service_1 = require("./model-catalog.service");
var node_registry_service_1 = require("./node-registry.service");
var redis_provider_1 = require("./redis.provider");
var tokens_1 = require("./tokens");
var inference_service_1 = require("./inference.service");
var inference_controller_1 = require("./inference.controller");
var jobs_controller_1 = require("./jobs.controller");
var plans_controller_1 = require("./plans.controller");
var admin_board_module_1 = require("./admin-board.module");
/** Settings, Redis, the model catalog and the node registry, shared by every gateway module. */
var GatewayCoreModule = function () {
    var _classDecorators = [(0, common_1.Global)(), (0, common_1.Module)({})];
    var _classDescriptor;
    var _classExtraInitializers = [];
    var _classThis;
    var GatewayCoreModule = _classThis = /** @class */ (function () {
        function GatewayCoreModule_1() {
        }
        GatewayCoreModule_1.forRoot = function (settings, catalog) {
            var queues = bullmq_1.BullModule.registerQueue.apply(bullmq_1.BullModule, catalog.names().map(function (m) { return ({ name: (0, contracts_1.inferQueueName)(m) }); }));
            return {
                module: GatewayCoreModule,
                imports: [bullmq_1.BullModule.forRoot({ connection: (0, config_1.bullConnection)(settings.redisUrl) }), queues],
                providers: [
                    { provide: tokens_1.GATEWAY_SETTINGS, useValue: settings },
                    { provide: model_catalog_service_1.ModelCatalog, useValue: catalog },
                    (0, redis_provider_1.redisProvider)(settings.redisUrl),
                    redis_provider_1.RedisCloser,
                    node_registry_service_1.NodeRegistry,
                ],
                exports: [tokens_1.GATEWAY_SETTINGS, model_catalog_service_1.ModelCatalog, node_registry_service_1.NodeRegistry, redis_provider_1.REDIS, queues],
            };
        };
        return GatewayCoreModule_1;
    }());
    __setFunctionName(_classThis, "GatewayCoreModule");
    (function () {
        var _metadata = typeof Symbol === "function" && Symbol.metadata ? Object.create(null) : void 0;
        __esDecorate(null, _classDescriptor = { value: _classThis }, _classDecorators, { kind: "class", name: _classThis.name, metadata: _metadata }, null, _classExtraInitializers);
        GatewayCoreModule = _classThis = _classDescriptor.value;
        if (_metadata) Object.defineProperty(_classThis, Symbol.metadata, { enumerable: true, configurable: true, writable: true, value: _metadata });
        __runInitializers(_classThis, _classExtraInitializers);
    })();
    return GatewayCoreModule = _classThis;
}();
var GatewayModule = function () {
    var _classDecorators = [(0, common_1.Module)({})];
    var _classDescriptor;
    var _classExtraInitializers = [];
    var _classThis;
    var GatewayModule = _classThis = /** @class */ (function () {
        function GatewayModule_1() {
        }
        GatewayModule_1.forRoot = function (settings, catalog) {
            return {
                module: GatewayModule,
                imports: [GatewayCoreModule.forRoot(settings, catalog), admin_board_module_1.AdminBoardModule.forRoot(settings, catalog.names())],
                controllers: [inference_controller_1.InferenceController, jobs_controller_1.JobsController, plans_controller_1.PlansController],
                providers: [inference_service_1.InferenceService],
            };
        };
        return GatewayModule_1;
    }());
    __setFunctionName(_classThis, "GatewayModule");
    (function () {
        var _metadata = typeof Symbol === "function" && Symbol.metadata ? Object.create(null) : void 0;
        __esDecorate(null, _classDescriptor = { value: _classThis }, _classDecorators, { kind: "class", name: _classThis.name, metadata: _metadata }, null, _classExtraInitializers);
        GatewayModule = _classThis = _classDescriptor.value;
        if (_metadata) Object.defineProperty(_classThis, Symbol.metadata, { enumerable: true, configurable: true, writable: true, value: _metadata });
        __runInitializers(_classThis, _classExtraInitializers);
    })();
    return GatewayModule = _classThis;
}();
exports.GatewayModule = GatewayModule;
