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
exports.RequestError = void 0;
exports.checkDefaultPlan = checkDefaultPlan;
exports.validatePlan = validatePlan;
exports.validateInferRequest = validateInferRequest;
exports.validateParameters = validateParameters;
var model_package_1 = require("@outlet/model-package");
var config_1 = require("@outlet/config");
var contracts_1 = require("@outlet/contracts");
/** A request the gateway refuses; `status` is the HTTP status to answer with. */
var RequestError = /** @class */ (function (_super) {
    __extends(RequestError, _super);
    function RequestError(status, message) {
        var _this = _super.call(this, message) || this;
        _this.status = status;
        return _this;
    }
    return RequestError;
}(Error));
exports.RequestError = RequestError;
var bad = function (message) { return new RequestError(400, message); };
function isObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
/** OUTLET_DEFAULT_PLAN must be a plan every served model accepts. */
function checkDefaultPlan(plan, catalog) {
    for (var _i = 0, _a = catalog.packages.values(); _i < _a.length; _i++) {
        var manifest = _a[_i].manifest;
        try {
            validatePlan(plan, manifest);
        }
        catch (err) {
            throw new config_1.ConfigError("OUTLET_DEFAULT_PLAN='".concat(plan, "' does not fit model '").concat(manifest.name, "': ").concat(err.message));
        }
    }
}
/** Check the request's plan against the model: a preset, `auto`, or one placement per early exit. */
function validatePlan(plan, manifest) {
    if (typeof plan !== 'string')
        throw bad("parameters.plan must be a string (one of ".concat(contracts_1.PLAN_PRESETS.join(', '), " or a comma list)"));
    if (plan.trim() === 'auto')
        return 'auto';
    try {
        (0, contracts_1.parsePlan)(plan, (0, model_package_1.earlyExitCount)(manifest));
    }
    catch (err) {
        if (err instanceof contracts_1.PlanError)
            throw bad("parameters.plan: ".concat(err.message));
        throw err;
    }
    return plan.trim();
}
/**
 * Validate an Open Inference Protocol v2 request body against a model's manifest. Every refusal
 * names the problem; nothing that fails here reaches a worker.
 */
function validateInferRequest(body, manifest) {
    if (!isObject(body))
        throw bad('the request body must be a JSON object with an "inputs" array');
    var expected = manifest.input;
    var id;
    if (body.id !== undefined) {
        if (typeof body.id !== 'string' || body.id.length > 256)
            throw bad('"id" must be a string of at most 256 characters');
        id = body.id;
    }
    if (!Array.isArray(body.inputs))
        throw bad('"inputs" must be an array of tensors');
    var unknown = body.inputs.find(function (t) { return !isObject(t) || t.name !== expected.name; });
    if (unknown !== undefined) {
        var name_1 = isObject(unknown) ? unknown.name : undefined;
        throw bad(typeof name_1 === 'string'
            ? "unknown input '".concat(name_1, "': model '").concat(manifest.name, "' takes one input named '").concat(expected.name, "'")
            : "every input must be an object with a \"name\"; model '".concat(manifest.name, "' takes '").concat(expected.name, "'"));
    }
    if (body.inputs.length === 0)
        throw bad("missing input '".concat(expected.name, "'"));
    if (body.inputs.length > 1)
        throw bad("input '".concat(expected.name, "' is given ").concat(body.inputs.length, " times"));
    var tensor = body.inputs[0];
    if (tensor.datatype !== expected.datatype) {
        throw bad("input '".concat(expected.name, "' has datatype ").concat(JSON.stringify(tensor.datatype), "; expected '").concat(expected.datatype, "'"));
    }
    var shape = tensor.shape;
    if (!Array.isArray(shape) || shape.some(function (d) { return !Number.isInteger(d) || d < 0; })) {
        throw bad("input '".concat(expected.name, "' shape must be an array of non-negative integers"));
    }
    var expectedText = "[".concat(expected.shape.join(','), "]");
    if (shape.length !== expected.shape.length) {
        throw bad("input '".concat(expected.name, "' shape [").concat(shape.join(','), "] does not match the model's ").concat(expectedText));
    }
    shape.forEach(function (d, i) {
        if (expected.shape[i] !== -1 && d !== expected.shape[i]) {
            throw bad("input '".concat(expected.name, "' shape [").concat(shape.join(','), "] does not match the model's ").concat(expectedText, " at dimension ").concat(i));
        }
    });
    if (shape[0] !== 1)
        throw bad("batch size ".concat(shape[0], " is not supported yet: send one sample per request (shape[0] = 1)"));
    if (!Array.isArray(tensor.data))
        throw bad("input '".concat(expected.name, "' needs \"data\": a flat, row-major array of numbers"));
    var flat = tensor.data.flat(Infinity);
    var count = (0, contracts_1.elementCount)(shape);
    if (flat.length !== count) {
        throw bad("input '".concat(expected.name, "' has ").concat(flat.length, " values but shape [").concat(shape.join(','), "] needs ").concat(count));
    }
    var data = new Float32Array(count);
    for (var i = 0; i < count; i++) {
        var v = flat[i];
        if (typeof v !== 'number' || !Number.isFinite(v)) {
            throw bad("input '".concat(expected.name, "' value at index ").concat(i, " is ").concat(JSON.stringify(v), ", not a finite number"));
        }
        data[i] = v;
    }
    if (body.outputs !== undefined) {
        if (!Array.isArray(body.outputs))
            throw bad('"outputs" must be an array of {"name"}');
        for (var _i = 0, _a = body.outputs; _i < _a.length; _i++) {
            var o = _a[_i];
            if (!isObject(o) || o.name !== manifest.output.name) {
                throw bad("unknown output ".concat(JSON.stringify(isObject(o) ? o.name : o), ": model '").concat(manifest.name, "' outputs '").concat(manifest.output.name, "'"));
            }
        }
    }
    var result = { id: id, data: data, shape: shape };
    Object.assign(result, validateParameters(body.parameters, manifest));
    return result;
}
function validateParameters(parameters, manifest) {
    if (parameters === undefined)
        return {};
    if (!isObject(parameters))
        throw bad('"parameters" must be an object');
    var out = {};
    if (parameters.plan !== undefined)
        out.plan = validatePlan(parameters.plan, manifest);
    if (parameters.threshold !== undefined) {
        var t = parameters.threshold;
        if (typeof t !== 'number' || !(t >= 0 && t <= 1))
            throw bad('parameters.threshold must be a number from 0 to 1');
        out.threshold = t;
    }
    return out;
}
