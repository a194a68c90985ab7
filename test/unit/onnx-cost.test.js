"use strict";
var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
var __generator = (this && this.__generator) || function (thisArg, body) {
    var _ = { label: 0, sent: function() { if (t[0] & 1) throw t[1]; return t[1]; }, trys: [], ops: [] }, f, y, t, g = Object.create((typeof Iterator === "function" ? Iterator : Object).prototype);
    return g.next = verb(0), g["throw"] = verb(1), g["return"] = verb(2), typeof Symbol === "function" && (g[Symbol.iterator] = function() { return this; }), g;
    function verb(n) { return function (v) { return step([n, v]); }; }
    function step(op) {
        if (f) throw new TypeError("Generator is already executing.");
        while (g && (g = 0, op[0] && (_ = 0)), _) try {
            if (f = 1, y && (t = op[0] & 2 ? y["return"] : op[0] ? y["throw"] || ((t = y["return"]) && t.call(y), 0) : y.next) && !(t = t.call(y, op[1])).done) return t;
            if (y = 0, t) op = [op[0] & 2, t.value];
            switch (op[0]) {
                case 0: case 1: t = op; break;
                case 4: _.label++; return { value: op[1], done: false };
                case 5: _.label++; y = op[1]; op = [0]; continue;
                case 7: op = _.ops.pop(); _.trys.pop(); continue;
                default:
                    if (!(t = _.trys, t = t.length > 0 && t[t.length - 1]) && (op[0] === 6 || op[0] === 2)) { _ = 0; continue; }
                    if (op[0] === 3 && (!t || (op[1] > t[0] && op[1] < t[3]))) { _.label = op[1]; break; }
                    if (op[0] === 6 && _.label < t[1]) { _.label = t[1]; t = op; break; }
                    if (t && _.label < t[2]) { _.label = t[2]; _.ops.push(op); break; }
                    if (t[2]) _.ops.pop();
                    _.trys.pop(); continue;
            }
            op = body.call(thisArg, _);
        } catch (e) { op = [6, e]; y = 0; } finally { f = t = 0; }
        if (op[0] & 5) throw op[1]; return { value: op[0] ? op[1] : void 0, done: true };
    }
};
Object.defineProperty(exports, "__esModule", { value: true });
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var node_path_1 = require("node:path");
var ort = require("onnxruntime-node");
var onnx_cost_1 = require("@outlet/onnx-cost");
var ROOT = (0, node_path_1.join)(__dirname, '..', '..', '..');
function single(build) {
    var w = new onnx_cost_1.OnnxWriter({ seed: 7 });
    w.output(build(w));
    return (0, onnx_cost_1.analyzeModel)(w.encode());
}
(0, node_test_1.test)('conv FLOPs by hand: stride 2, pads 1, dilation 2, group 2, with bias', function () {
    var cost = single(function (w) {
        var x = w.input('x', [1, 8, 32, 32]);
        var wt = w.randomWeights('w', [16, 4, 3, 3], 36);
        var b = w.randomWeights('b', [16], 36);
        return w.node('Conv', [x, wt, b], { strides: [2, 2], pads: [1, 1, 1, 1], dilations: [2, 2], group: 2 })[0];
    });
    // effective kernel (3-1)*2+1 = 5; out = floor((32+1+1-5)/2)+1 = 15
    strict_1.default.deepEqual(cost.outputs[0].shape, [1, 16, 15, 15]);
    // MACs = Cout·H·W·(Cin/group)·kh·kw = 16·15·15·4·3·3 = 129600; 2 FLOPs per MAC, +1 per output for the bias
    strict_1.default.equal(cost.flops, 2 * 129600 + 16 * 15 * 15);
    strict_1.default.equal(cost.byCategory.conv.flops, cost.flops);
    // bytes: input 8·32·32 + weights 16·4·9 + bias 16 + output 16·15·15, 4 bytes each
    strict_1.default.equal(cost.bytes, 4 * (8 * 32 * 32 + 16 * 4 * 9 + 16 + 16 * 15 * 15));
    strict_1.default.equal(cost.params, 16 * 4 * 9 + 16);
});
(0, node_test_1.test)('conv auto_pad SAME_UPPER and VALID output sizes, depthwise conv', function () {
    strict_1.default.equal((0, onnx_cost_1.windowOutput)(15, 3, 2, 1, 0, 0, 'SAME_UPPER'), 8);
    strict_1.default.equal((0, onnx_cost_1.windowOutput)(15, 3, 2, 1, 0, 0, 'VALID'), 7);
    strict_1.default.equal((0, onnx_cost_1.windowOutput)(7, 2, 2, 1, 0, 0, 'NOTSET', true), 4);
    var cost = single(function (w) { return w.conv(w.input('x', [1, 32, 15, 15]), { outChannels: 32, kernel: 3, stride: 2, pad: 'same', group: 32, bias: false }); });
    strict_1.default.deepEqual(cost.outputs[0].shape, [1, 32, 8, 8]);
    strict_1.default.equal(cost.flops, 2 * 32 * 8 * 8 * 1 * 9);
});
(0, node_test_1.test)('pooling FLOPs: window over the output map, ceil_mode, global pooling', function () {
    var max = single(function (w) { return w.node('MaxPool', [w.input('x', [1, 4, 15, 15])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })[0]; });
    strict_1.default.deepEqual(max.outputs[0].shape, [1, 4, 8, 8]);
    strict_1.default.equal(max.flops, 4 * 8 * 8 * 9);
    strict_1.default.equal(max.byCategory.pool.count, 1);
    var ceil = single(function (w) { return w.node('AveragePool', [w.input('x', [1, 1, 7, 7])], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })[0]; });
    strict_1.default.deepEqual(ceil.outputs[0].shape, [1, 1, 4, 4]);
    strict_1.default.equal(ceil.flops, 16 * 4);
    var gap = single(function (w) { return w.globalAveragePool(w.input('x', [1, 8, 4, 4])); });
    strict_1.default.deepEqual(gap.outputs[0].shape, [1, 8, 1, 1]);
    strict_1.default.equal(gap.flops, 8 * 4 * 4);
});
(0, node_test_1.test)('fully connected FLOPs: Gemm (transB, bias) and batched MatMul', function () {
    var gemm = single(function (w) { return w.gemm(w.flatten(w.input('x', [-1, 4, 5, 5])), 10); });
    // Fin×Fout MACs per output row: 2·100·10, + 10 bias adds; Flatten is free
    strict_1.default.equal(gemm.flops, 2 * 100 * 10 + 10);
    strict_1.default.equal(gemm.byCategory.fc.flops, gemm.flops);
    strict_1.default.equal(gemm.byCategory.free.bytes, 0);
    var mm = single(function (w) { return w.matmul(w.input('x', [2, 3, 4, 5]), 6); });
    strict_1.default.deepEqual(mm.outputs[0].shape, [2, 3, 4, 6]);
    strict_1.default.equal(mm.flops, 2 * (2 * 3) * 4 * 5 * 6);
});
(0, node_test_1.test)('element-wise ops broadcast; activations and softmax count per element', function () {
    var add = single(function (w) { return w.add(w.input('x', [1, 8, 4, 4]), w.randomWeights('b', [8, 1, 1], 1)); });
    strict_1.default.deepEqual(add.outputs[0].shape, [1, 8, 4, 4]);
    strict_1.default.equal(add.flops, 128);
    var bc = single(function (w) { return w.node('Mul', [w.input('a', [3, 1, 5]), w.input('b', [1, 4, 1])])[0]; });
    strict_1.default.deepEqual(bc.outputs[0].shape, [3, 4, 5]);
    strict_1.default.equal(bc.flops, 60);
    var act = single(function (w) { return w.softmax(w.relu(w.input('x', [1, 10]))); });
    strict_1.default.equal(act.flops, 10 * 1 + 10 * 5);
});
(0, node_test_1.test)('shapes flow through a Shape→Gather→Unsqueeze→Concat→Reshape chain and Constant nodes', function () {
    var w = new onnx_cost_1.OnnxWriter();
    var x = w.input('x', [-1, 16, 3, 3]);
    var shape = w.node('Shape', [x])[0];
    var zero = w.int64Initializer('zero', [], [0]);
    var n = w.node('Gather', [shape, zero], { axis: 0 })[0];
    var axes = w.int64Initializer('axes', [1], [0]);
    var n1 = w.node('Unsqueeze', [n, axes])[0];
    var minus1 = w.int64Initializer('minus1', [1], [-1]);
    var target = w.node('Concat', [n1, minus1], { axis: 0 })[0];
    var flat = w.node('Reshape', [x, target])[0];
    w.output(w.gemm(flat, 10));
    var cost = (0, onnx_cost_1.analyzeModel)(w.encode(), { batch: 4 });
    strict_1.default.deepEqual(cost.inputs[0].shape, [4, 16, 3, 3]);
    strict_1.default.deepEqual(cost.outputs[0].shape, [4, 10]);
    strict_1.default.equal(cost.unresolved.length, 0);
    strict_1.default.equal(cost.byCategory.fc.flops, 4 * (2 * 144 * 10 + 10));
});
(0, node_test_1.test)('unknown op types are reported, never silently counted as zero', function () {
    var w = new onnx_cost_1.OnnxWriter();
    var x = w.input('x', [1, 4]);
    w.output(w.relu(x));
    var model = w.toModel();
    // Insert a custom op between the input and the Relu.
    model.graph.node.unshift({ name: 'fancy', opType: 'FancyOp', input: ['x'], output: ['fancy_out'] });
    model.graph.node[1].input = ['fancy_out'];
    var cost = (0, onnx_cost_1.analyzeModel)(onnx_cost_1.onnx.ModelProto.encode(onnx_cost_1.onnx.ModelProto.create(model)).finish());
    strict_1.default.deepEqual(cost.unknownOps, ['FancyOp']);
    strict_1.default.equal(cost.nodes[0].known, false);
    // The Relu after it has no input shape: unresolved, with a reason.
    strict_1.default.deepEqual(cost.unresolved.map(function (u) { return u.opType; }), ['FancyOp', 'Relu']);
    strict_1.default.match(cost.unresolved[1].problem, /unknown/);
});
(0, node_test_1.test)('writer round trip: write → read gives the same graph, and onnxruntime runs it', function () { return __awaiter(void 0, void 0, void 0, function () {
    var w, x, written, bytes, read, g, convAttrs, original, session, out, probs, sum;
    return __generator(this, function (_a) {
        switch (_a.label) {
            case 0:
                w = new onnx_cost_1.OnnxWriter({ seed: 11 });
                x = w.input('input', [-1, 3, 16, 16]);
                x = w.relu(w.conv(x, { outChannels: 8, kernel: 3, stride: 1, pad: 1 }));
                x = w.maxPool(x, { kernel: 2 });
                x = w.averagePool(x, { kernel: 2 });
                x = w.softmax(w.relu(w.gemm(w.flatten(x), 12)));
                w.output(x);
                written = w.toModel();
                bytes = w.encode();
                read = (0, onnx_cost_1.readOnnxModel)(bytes);
                g = read.graph;
                strict_1.default.deepEqual(g.node.map(function (n) { return n.opType; }), ['Conv', 'Relu', 'MaxPool', 'AveragePool', 'Flatten', 'Gemm', 'Relu', 'Softmax']);
                strict_1.default.deepEqual(g.node.map(function (n) { return n.name; }), written.graph.node.map(function (n) { return n.name; }));
                convAttrs = Object.fromEntries(g.node[0].attribute.map(function (a) { var _a; return [a.name, ((_a = a.ints) !== null && _a !== void 0 ? _a : []).map(Number)]; }));
                strict_1.default.deepEqual(convAttrs.pads, [1, 1, 1, 1]);
                strict_1.default.deepEqual(convAttrs.kernel_shape, [3, 3]);
                strict_1.default.deepEqual(g.initializer.map(function (t) { var _a; return ((_a = t.dims) !== null && _a !== void 0 ? _a : []).map(Number); }), [[8, 3, 3, 3], [8], [12, 8 * 4 * 4], [12]]);
                original = written.graph.initializer[0];
                strict_1.default.deepEqual((0, onnx_cost_1.tensorValues)(g.initializer[0]), (0, onnx_cost_1.tensorValues)(original));
                strict_1.default.equal(g.input[0].type.tensorType.shape.dim[0].dimParam, 'N');
                return [4 /*yield*/, ort.InferenceSession.create(bytes)];
            case 1:
                session = _a.sent();
                return [4 /*yield*/, session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 3 * 16 * 16).fill(0.3), [2, 3, 16, 16]) })];
            case 2:
                out = _a.sent();
                probs = out[session.outputNames[0]];
                strict_1.default.deepEqual(probs.dims, [2, 12]);
                sum = probs.data.slice(0, 12).reduce(function (a, b) { return a + b; }, 0);
                strict_1.default.ok(Math.abs(sum - 1) < 1e-4);
                return [4 /*yield*/, session.release()];
            case 3:
                _a.sent();
                return [2 /*return*/];
        }
    });
}); });
(0, node_test_1.test)('branchy-mnist pieces: shapes match the manifest and every op is costed', function () {
    var dir = (0, node_path_1.join)(ROOT, 'models', 'branchy-mnist');
    var seg1 = (0, onnx_cost_1.analyzeModel)((0, node_path_1.join)(dir, 'segment-1.onnx'));
    strict_1.default.deepEqual(seg1.outputs[0].shape, [1, 8, 14, 14]);
    strict_1.default.deepEqual(seg1.unknownOps, []);
    // conv 1→8, 3×3, 28×28 output, bias: 2·8·28·28·9 + 8·28·28
    strict_1.default.equal(seg1.byCategory.conv.flops, 2 * 8 * 28 * 28 * 9 + 8 * 28 * 28);
    var exit3 = (0, onnx_cost_1.analyzeModel)((0, node_path_1.join)(dir, 'exit-3.onnx'));
    strict_1.default.equal(exit3.byCategory.fc.flops, 2 * 288 * 64 + 64 + 2 * 64 * 10 + 10);
});
