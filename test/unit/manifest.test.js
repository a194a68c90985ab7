"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var model_package_1 = require("@outlet/model-package");
var good = function () { return ({
    name: 'tiny',
    version: '1',
    input: { name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] },
    output: { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
    labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    segments: [
        { file: 's1.onnx', output_shape: [-1, 8, 14, 14] },
        { file: 's2.onnx', output_shape: [-1, 16, 7, 7] },
    ],
    exits: [
        { file: 'e1.onnx', after_segment: 0, threshold: 0.9 },
        { file: 'e2.onnx', after_segment: 1, threshold: 0 },
    ],
}); };
(0, node_test_1.test)('a good manifest validates', function () {
    var m = (0, model_package_1.validateManifest)(good());
    strict_1.default.equal(m.name, 'tiny');
    strict_1.default.equal((0, model_package_1.earlyExitCount)(m), 1);
});
(0, node_test_1.test)('each bad field is named in the error', function () {
    var cases = [
        [function (m) { return delete m.name; }, /'name' must be a non-empty string/],
        [function (m) { return (m.name = 'a/b'); }, /'name' may hold only/],
        [function (m) { return (m.input.datatype = 'INT8'); }, /'input.datatype' is 'INT8'/],
        [function (m) { return (m.input.shape = [1, -1, 28]); }, /'input.shape\[1\]' must be a positive integer/],
        [function (m) { return (m.segments = []); }, /'segments' must be a non-empty array/],
        [function (m) { return (m.segments[1].file = '../x.onnx'); }, /'segments\[1\].file' must be a file name inside the package/],
        [function (m) { return (m.segments[0].file = 's1.pt'); }, /'segments\[0\].file' must name an .onnx file/],
        [function (m) { return (m.exits[0].after_segment = 5); }, /'exits\[0\].after_segment' must be a segment index from 0 to 1/],
        [function (m) { return (m.exits[0].threshold = 1.5); }, /'exits\[0\].threshold' must be a number from 0 to 1/],
        [function (m) { return (m.exits[1].after_segment = 0); }, /'exits\[1\].after_segment' must be greater than the previous/],
        [function (m) { return m.exits.pop(); }, /'exits\[0\].after_segment' must be the last segment/],
        [function (m) { return (m.labels = ['a']); }, /'labels' has 1 entries but the output has 10 classes/],
    ];
    var _loop_1 = function (spoil, message) {
        var m = good();
        spoil(m);
        strict_1.default.throws(function () { return (0, model_package_1.validateManifest)(m); }, function (e) { return e instanceof model_package_1.ManifestError && message.test(e.message); }, String(message));
    };
    for (var _i = 0, cases_1 = cases; _i < cases_1.length; _i++) {
        var _a = cases_1[_i], spoil = _a[0], message = _a[1];
        _loop_1(spoil, message);
    }
    strict_1.default.throws(function () { return (0, model_package_1.validateManifest)([]); }, /'\(root\)' must be a JSON object/);
});
