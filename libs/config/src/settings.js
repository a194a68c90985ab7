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
Object.defineProperty(exports, "__esModule", { value: true });
exports.TRUNK_EPS = void 0;
exports.readCommonSettings = readCommonSettings;
exports.readGatewaySettings = readGatewaySettings;
exports.readTrunkSettings = readTrunkSettings;
exports.readBranchSettings = readBranchSettings;
exports.settingsOrExit = settingsOrExit;
var node_os_1 = require("node:os");
var node_path_1 = require("node:path");
var env_1 = require("./env");
/**
 * Every setting of every Outlet process, read from the environment. Each process reads only the
 * part it needs; the README lists them all.
 */
exports.TRUNK_EPS = ['auto', 'cuda', 'webgpu', 'cpu'];
var DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
function readCommonSettings(env) {
    if (env === void 0) { env = process.env; }
    return {
        redisUrl: (0, env_1.envRedisUrl)(env, DEFAULT_REDIS_URL),
        modelsDir: (0, node_path_1.resolve)((0, env_1.envString)(env, 'OUTLET_MODELS_DIR', 'models')),
        jobRetention: (0, env_1.envInt)(env, 'OUTLET_JOB_RETENTION', 1000, 1, 1000000),
    };
}
function readGatewaySettings(env) {
    if (env === void 0) { env = process.env; }
    var user = (0, env_1.envOptional)(env, 'OUTLET_ADMIN_USER');
    var password = (0, env_1.envOptional)(env, 'OUTLET_ADMIN_PASSWORD');
    if ((user === undefined) !== (password === undefined)) {
        throw new env_1.ConfigError('OUTLET_ADMIN_USER and OUTLET_ADMIN_PASSWORD must be set together');
    }
    var bodyLimit = (0, env_1.envString)(env, 'OUTLET_BODY_LIMIT', '1mb');
    if (!/^\d+(b|kb|mb)$/i.test(bodyLimit)) {
        throw new env_1.ConfigError("OUTLET_BODY_LIMIT='".concat(bodyLimit, "' must look like 512kb or 1mb"));
    }
    return __assign(__assign({}, readCommonSettings(env)), { port: (0, env_1.envInt)(env, 'PORT', 3000, 0, 65535), host: (0, env_1.envString)(env, 'HOST', '0.0.0.0'), defaultPlan: (0, env_1.envString)(env, 'OUTLET_DEFAULT_PLAN', 'parallel'), bodyLimit: bodyLimit, inferTimeoutMs: (0, env_1.envInt)(env, 'OUTLET_INFER_TIMEOUT_MS', 30000, 100, 3600000), admin: user !== undefined && password !== undefined ? { user: user, password: password } : undefined });
}
function readTrunkSettings(env) {
    if (env === void 0) { env = process.env; }
    return __assign(__assign({}, readCommonSettings(env)), { nodeId: (0, env_1.envNodeId)(env, (0, node_os_1.hostname)()), trunkEp: (0, env_1.envChoice)(env, 'OUTLET_TRUNK_EP', 'auto', exports.TRUNK_EPS), threads: (0, env_1.envInt)(env, 'OUTLET_TRUNK_THREADS', 1, 1, 256), concurrency: (0, env_1.envInt)(env, 'OUTLET_TRUNK_CONCURRENCY', 1, 1, 64) });
}
function readBranchSettings(env) {
    if (env === void 0) { env = process.env; }
    return __assign(__assign({}, readCommonSettings(env)), { nodeId: (0, env_1.envNodeId)(env, (0, node_os_1.hostname)()), threads: (0, env_1.envInt)(env, 'OUTLET_BRANCH_THREADS', 1, 1, 256), concurrency: (0, env_1.envInt)(env, 'OUTLET_BRANCH_CONCURRENCY', 1, 1, 64) });
}
/** Run a settings reader; on a bad value print the reason and exit 1 (no stack trace). */
function settingsOrExit(read, processName) {
    try {
        return read();
    }
    catch (err) {
        if (err instanceof env_1.ConfigError) {
            console.error("".concat(processName, ": bad setting: ").concat(err.message));
            process.exit(1);
        }
        throw err;
    }
}
