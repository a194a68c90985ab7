"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.heldOutRequests = heldOutRequests;
var node_fs_1 = require("node:fs");
var node_path_1 = require("node:path");
var MNIST_SIDE = 28;
function digitsOfClass(label) {
    var path = (0, node_path_1.join)(require.resolve('mnist/package.json'), '..', 'src', 'digits', "".concat(label, ".json"));
    return JSON.parse((0, node_fs_1.readFileSync)(path, 'utf8')).data;
}
/**
 * `count` held-out digits of the mnist package (sample i of a class file with i % 5 == 4), ten
 * classes in turn, upscaled by nearest-neighbour replication to the model's input size
 * (out[y][x] = in[floor(y/f)][floor(x/f)], as branchy-bench was trained).
 */
function heldOutRequests(manifest, count) {
    var _a = manifest.input.shape, channels = _a[1], height = _a[2], width = _a[3];
    if (channels !== 1 || height !== width || height % MNIST_SIDE !== 0) {
        throw new Error("".concat(manifest.name, ": input ").concat(JSON.stringify(manifest.input.shape), " is not a 1-channel multiple of 28x28"));
    }
    var factor = height / MNIST_SIDE;
    var classes = Array.from({ length: 10 }, function (_, d) { return digitsOfClass(d); });
    var requests = [];
    for (var k = 0; k < count; k++) {
        var label = k % 10;
        var index = Math.floor(k / 10) * 5 + 4;
        var source = classes[label].slice(index * 784, (index + 1) * 784);
        if (source.length < 784)
            throw new Error("the mnist package has too few held-out digits of class ".concat(label, " for ").concat(count, " requests"));
        var pixels = new Float32Array(height * width);
        for (var y = 0; y < height; y++) {
            for (var x = 0; x < width; x++)
                pixels[y * width + x] = source[Math.floor(y / factor) * MNIST_SIDE + Math.floor(x / factor)];
        }
        requests.push({ label: label, pixels: pixels });
    }
    return requests;
}
