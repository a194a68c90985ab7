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
require("reflect-metadata");
var common_1 = require("@nestjs/common");
var core_1 = require("@nestjs/core");
var edge_node_1 = require("@outlet/edge-node");
var config_1 = require("@outlet/config");
var model_package_1 = require("@outlet/model-package");
var contracts_1 = require("@outlet/contracts");
var app_module_1 = require("./app.module");
var model_catalog_service_1 = require("./model-catalog.service");
var inference_request_1 = require("./inference-request");
var http_error_filter_1 = require("./http-error.filter");
var body_parser_1 = require("./body-parser");
var admin_board_module_1 = require("./admin-board.module");
function bootstrap() {
    return __awaiter(this, void 0, void 0, function () {
        var settings, catalog, app, url, logger;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    settings = (0, config_1.settingsOrExit)(config_1.readGatewaySettings, 'gateway');
                    return [4 /*yield*/, (0, config_1.assertRedisReachable)(settings.redisUrl, 'gateway')];
                case 1:
                    _a.sent();
                    catalog = new model_catalog_service_1.ModelCatalog((0, config_1.settingsOrExit)(function () { return (0, model_package_1.loadModelPackages)(settings.modelsDir); }, 'gateway'));
                    (0, config_1.settingsOrExit)(function () { return (0, inference_request_1.checkDefaultPlan)(settings.defaultPlan, catalog); }, 'gateway');
                    return [4 /*yield*/, core_1.NestFactory.create(app_module_1.GatewayModule.forRoot(settings, catalog), {
                            bodyParser: false,
                            logger: (0, edge_node_1.processLogger)('gateway'),
                        })];
                case 2:
                    app = _a.sent();
                    app.use(function (req, _res, next) {
                        req.receivedAt = (0, contracts_1.nowMs)();
                        next();
                    });
                    app.use((0, body_parser_1.jsonBody)(settings.bodyLimit));
                    app.useGlobalFilters(new http_error_filter_1.HttpErrorFilter());
                    (0, edge_node_1.closeOnSignals)(app, 'gateway');
                    return [4 /*yield*/, app.listen(settings.port, settings.host)];
                case 3:
                    _a.sent();
                    url = "http://localhost:".concat(app.getHttpServer().address().port);
                    logger = new common_1.Logger('Gateway');
                    if (settings.admin)
                        logger.log("Bull Board ".concat(url).concat(admin_board_module_1.ADMIN_ROUTE));
                    else
                        logger.warn("Bull Board is off: set OUTLET_ADMIN_USER and OUTLET_ADMIN_PASSWORD to serve it at ".concat(admin_board_module_1.ADMIN_ROUTE));
                    logger.log("serving ".concat(catalog.names().join(', '), " \u2014 API ").concat(url, "/v2/models/<name>/infer"));
                    return [2 /*return*/];
            }
        });
    });
}
bootstrap().catch(function (err) {
    console.error("gateway: ".concat(err instanceof Error ? err.message : String(err)));
    process.exit(1);
});
