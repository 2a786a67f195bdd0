package dev.squeeze.compress.quant;

/**
 * What a quantized Squeeze model's convolutions compute in: int8 (uint8 activation codes, fused by ONNX Runtime into
 * QLinearConv), or float with their weights still int8 ({@link WeightOnlyInt8Linear}: the int8 weights Cast and
 * scaled into a float Conv, folded by ONNX Runtime at load). ONNX Runtime's int8 convolution is slower than its float one on few channels (lenet-5's first
 * two layers, 1 and 6 input channels: the int8 model twice as slow as the float one); float activations keep the
 * int8 weights' file size and the float kernel's speed. Users write the lower-case names.
 */
public enum ConvActivations {
    INT8, FLOAT
}
