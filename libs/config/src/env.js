"use strict";
/** Small, strict readers of environment variables: a bad value stops start-up with its name. */
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
exports.ConfigError = void 0;
exports.envString = envString;
exports.envOptional = envOptional;
exports.envInt = envInt;
exports.envNumber = envNumber;
exports.envChoice = envChoice;
exports.envRedisUrl = envRedisUrl;
exports.envNodeId = envNodeId;
var ConfigError = /** @class */ (function (_super) {
    __extends(ConfigError, _super);
    function ConfigError() {
        return _super !== null && _super.apply(this, arguments) || this;
    }
    return ConfigError;
}(Error));
exports.ConfigError = ConfigError;
function raw(env, name) {
    var value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
}
function envString(env, name, fallback) {
    var _a;
    return (_a = raw(env, name)) !== null && _a !== void 0 ? _a : fallback;
}
function envOptional(env, name) {
    return raw(env, name);
}
function envInt(env, name, fallback, min, max) {
    var value = raw(env, name);
    if (value === undefined)
        return fallback;
    var n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
        throw new ConfigError("".concat(name, "='").concat(value, "' must be an integer from ").concat(min, " to ").concat(max));
    }
    return n;
}
function envNumber(env, name, fallback, min, max) {
    var value = raw(env, name);
    if (value === undefined)
        return fallback;
    var n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) {
        throw new ConfigError("".concat(name, "='").concat(value, "' must be a number from ").concat(min, " to ").concat(max));
    }
    return n;
}
function envChoice(env, name, fallback, choices) {
    var value = raw(env, name);
    if (value === undefined)
        return fallback;
    if (!choices.includes(value)) {
        throw new ConfigError("".concat(name, "='").concat(value, "' must be one of: ").concat(choices.join(', ')));
    }
    return value;
}
function envRedisUrl(env, fallback) {
    var _a;
    var value = (_a = raw(env, 'REDIS_URL')) !== null && _a !== void 0 ? _a : fallback;
    var url;
    try {
        url = new URL(value);
    }
    catch (_b) {
        throw new ConfigError("REDIS_URL='".concat(value, "' is not a URL (expected redis://host:port)"));
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
        throw new ConfigError("REDIS_URL='".concat(value, "' must start with redis:// or rediss://"));
    }
    return value;
}
function envNodeId(env, fallback) {
    var _a;
    var value = (_a = raw(env, 'NODE_ID')) !== null && _a !== void 0 ? _a : fallback;
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(value)) {
        throw new ConfigError("NODE_ID='".concat(value, "' may hold only letters, digits, '.', '_' and '-' (64 at most)"));
    }
    return value;
}
