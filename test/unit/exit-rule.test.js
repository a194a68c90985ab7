"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var inference_1 = require("@outlet/inference");
(0, node_test_1.test)('the head is confident when its max probability reaches the threshold', function () {
    var p = Float32Array.from([0.05, 0.9, 0.05]);
    strict_1.default.equal((0, inference_1.argMax)(p), 1);
    strict_1.default.ok(Math.abs((0, inference_1.maxProbability)(p) - 0.9) < 1e-6);
    strict_1.default.equal((0, inference_1.isConfident)(p, 0.8), true);
    strict_1.default.equal((0, inference_1.isConfident)(p, 0.95), false);
    strict_1.default.equal((0, inference_1.isConfident)([0.5, 0.5], 0.5), true, 'reaching the threshold exactly counts');
    strict_1.default.equal((0, inference_1.isConfident)([0.1, 0.2], 0), true, 'threshold 0 always exits');
});
(0, node_test_1.test)('an empty output is an error, not a silent exit', function () {
    strict_1.default.throws(function () { return (0, inference_1.maxProbability)([]); }, /no probabilities/);
});
