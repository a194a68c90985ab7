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
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var model_package_1 = require("@outlet/model-package");
var inference_request_1 = require("../../apps/gateway/src/inference-request");
var manifest = (0, model_package_1.validateManifest)({
    name: 'tiny',
    version: '1',
    input: { name: 'input', datatype: 'FP32', shape: [-1, 2, 2] },
    output: { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
    segments: [{ file: 's1.onnx', output_shape: [-1, 4] }, { file: 's2.onnx', output_shape: [-1, 4] }],
    exits: [
        { file: 'e1.onnx', after_segment: 0, threshold: 0.9 },
        { file: 'e2.onnx', after_segment: 1, threshold: 0 },
    ],
});
var request = function (over, tensor) {
    if (over === void 0) { over = {}; }
    if (tensor === void 0) { tensor = {}; }
    return (__assign({ inputs: [__assign({ name: 'input', datatype: 'FP32', shape: [1, 2, 2], data: [0, 0.5, 1, 0.25] }, tensor)] }, over));
};
(0, node_test_1.test)('a valid request yields FP32 data, shape and parameters', function () {
    var v = (0, inference_request_1.validateInferRequest)(request({ id: 'r1', parameters: { plan: 'serial', threshold: 0.5 } }), manifest);
    strict_1.default.deepEqual(Array.from(v.data), [0, 0.5, 1, 0.25]);
    strict_1.default.deepEqual(v.shape, [1, 2, 2]);
    strict_1.default.equal(v.id, 'r1');
    strict_1.default.equal(v.plan, 'serial');
    strict_1.default.equal(v.threshold, 0.5);
    strict_1.default.equal((0, inference_request_1.validateInferRequest)(request({ parameters: { plan: 'auto' } }), manifest).plan, 'auto');
    strict_1.default.equal((0, inference_request_1.validateInferRequest)(request({}, { data: [[0, 0.5], [1, 0.25]] }), manifest).data.length, 4);
});
(0, node_test_1.test)('every malformed request is a 400 that names the problem', function () {
    var cases = [
        ['text', /must be a JSON object/],
        [{}, /"inputs" must be an array/],
        [{ inputs: [] }, /missing input 'input'/],
        [request({}, { name: 'pixels' }), /unknown input 'pixels'/],
        [request({}, { datatype: 'INT32' }), /datatype "INT32"; expected 'FP32'/],
        [request({}, { shape: [1, 4] }), /shape \[1,4\] does not match the model's \[-1,2,2\]/],
        [request({}, { shape: [1, 2, 3] }), /does not match the model's \[-1,2,2\] at dimension 2/],
        [request({}, { shape: [2, 2, 2] }), /batch size 2 is not supported yet/],
        [request({}, { data: [1, 2, 3] }), /has 3 values but shape \[1,2,2\] needs 4/],
        [request({}, { data: [1, 2, 'x', 4] }), /value at index 2 is "x", not a finite number/],
        [request({}, { data: [1, null, 3, 4] }), /value at index 1 is null/],
        [request({ parameters: { plan: 'fastest' } }), /parameters.plan: unknown plan or placement 'fastest'/],
        [request({ parameters: { plan: 'branch,trunk' } }), /has 2 placement\(s\) but the model has 1 early exit/],
        [request({ parameters: { threshold: 2 } }), /parameters.threshold must be a number from 0 to 1/],
        [request({ outputs: [{ name: 'logits' }] }), /unknown output "logits"/],
        [request({ id: 7 }), /"id" must be a string/],
    ];
    var _loop_1 = function (body, message) {
        strict_1.default.throws(function () { return (0, inference_request_1.validateInferRequest)(body, manifest); }, function (e) { return e instanceof inference_request_1.RequestError && e.status === 400 && message.test(e.message); }, String(message));
    };
    for (var _i = 0, cases_1 = cases; _i < cases_1.length; _i++) {
        var _a = cases_1[_i], body = _a[0], message = _a[1];
        _loop_1(body, message);
    }
});
