"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.describeMachine = describeMachine;
var node_os_1 = require("node:os");
var ort = require("onnxruntime-node");
function describeMachine() {
    var _a, _b, _c, _d;
    var c = (0, node_os_1.cpus)();
    return {
        hostname: (0, node_os_1.hostname)(),
        cpu_model: (_b = (_a = c[0]) === null || _a === void 0 ? void 0 : _a.model) !== null && _b !== void 0 ? _b : 'unknown',
        cores: c.length,
        memory_gib: Math.round(((0, node_os_1.totalmem)() / Math.pow(2, 30)) * 10) / 10,
        platform: "".concat((0, node_os_1.platform)(), " ").concat((0, node_os_1.arch)(), " ").concat((0, node_os_1.release)()),
        node: process.version,
        onnxruntime: (_d = (_c = ort.env.versions) === null || _c === void 0 ? void 0 : _c.node) !== null && _d !== void 0 ? _d : 'unknown',
    };
}
