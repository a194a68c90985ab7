"use strict";
/** The exit rule: a head is confident when its max softmax probability reaches the threshold. */
Object.defineProperty(exports, "__esModule", { value: true });
exports.argMax = argMax;
exports.maxProbability = maxProbability;
exports.isConfident = isConfident;
function argMax(values) {
    var best = 0;
    for (var i = 1; i < values.length; i++)
        if (values[i] > values[best])
            best = i;
    return best;
}
function maxProbability(probabilities) {
    if (probabilities.length === 0)
        throw new Error('an exit head returned no probabilities');
    return probabilities[argMax(probabilities)];
}
function isConfident(probabilities, threshold) {
    return maxProbability(probabilities) >= threshold;
}
