"use strict";
var __extends = (this && this.__extends) || (function () {
    var extendStatics = function (d, b) {
        extendStatics = Object.setPrototypeOf ||
            ({ __proto__: [] } instanceof Array && function (d, b) { d.__proto__ = b; }) ||
            function (d, b) { for (var p in b) if (Object.prototype.hasOwnProperty.call(b, p)) d[p] = b[p]; };
        return extendStatics(d, b);
    };
    return function (d, b) {
        if (typeof b !== "function" && b !== null)
            throw new TypeError("Class extends value " + String(b) + " is not a constructor or null");
        extendStatics(d, b);
        function __() { this.constructor = d; }
        d.prototype = b === null ? Object.create(b) : (__.prototype = b.prototype, new __());
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.ProcessLogger = void 0;
exports.processLogger = processLogger;
var common_1 = require("@nestjs/common");
/** Nest's boot chatter (module and route listings) hidden; our own lines and every warning kept. */
var BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);
var ProcessLogger = /** @class */ (function (_super) {
    __extends(ProcessLogger, _super);
    function ProcessLogger() {
        return _super !== null && _super.apply(this, arguments) || this;
    }
    ProcessLogger.prototype.log = function (message, context) {
        if (context && BOOT_CONTEXTS.has(context))
            return;
        _super.prototype.log.call(this, message, context);
    };
    return ProcessLogger;
}(common_1.ConsoleLogger));
exports.ProcessLogger = ProcessLogger;
function processLogger(name) {
    var _a;
    return new ProcessLogger(name, { colors: (_a = process.stdout.isTTY) !== null && _a !== void 0 ? _a : false });
}
