"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var contracts_1 = require("@outlet/contracts");
(0, node_test_1.test)('FP32 values survive the binary round trip bit for bit', function () {
    var values = Float32Array.from([0, -1.5, 3.4028234663852886e38, 1e-45, Math.PI]);
    var back = (0, contracts_1.bufferToFloat32)((0, contracts_1.float32ToBuffer)(values));
    strict_1.default.deepEqual(Array.from(back), Array.from(values));
    strict_1.default.equal((0, contracts_1.float32ToBuffer)(values).byteLength, 20);
});
(0, node_test_1.test)('base64 round trip, and plain number arrays are accepted', function () {
    strict_1.default.deepEqual(Array.from((0, contracts_1.base64ToFloat32)((0, contracts_1.float32ToBase64)([1, 2.5, -3]))), [1, 2.5, -3]);
});
(0, node_test_1.test)('an unaligned Buffer slice decodes correctly', function () {
    var bytes = Buffer.concat([Buffer.from([9]), (0, contracts_1.float32ToBuffer)(Float32Array.from([7.25, -2]))]).subarray(1);
    strict_1.default.deepEqual(Array.from((0, contracts_1.bufferToFloat32)(bytes)), [7.25, -2]);
});
(0, node_test_1.test)('a byte count that is not a multiple of 4 is refused', function () {
    strict_1.default.throws(function () { return (0, contracts_1.bufferToFloat32)(Buffer.alloc(6)); }, /6 bytes is not a whole number of FP32 values/);
});
(0, node_test_1.test)('elementCount multiplies the dimensions', function () {
    strict_1.default.equal((0, contracts_1.elementCount)([1, 1, 28, 28]), 784);
    strict_1.default.equal((0, contracts_1.elementCount)([]), 1);
});
