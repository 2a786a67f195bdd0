package dev.squeeze.models.zoo.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.convolution.Convolution;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where DL4J's own convolution path spends its time: the pieces of ConvolutionLayer's im2col + GEMM
 * forward and backward (as in DL4J 1.0.0-M2.1's source) against libnd4j's conv2d/conv2d_bp ops, for
 * LeNet-5's two convolutions at batch 60. Arrays are preallocated, as in a workspace.
 */
public final class ConvParts {
    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        if (args.length > 1 && args[1].equals("nohelpers")) {
            Nd4j.getEnvironment().allowHelpers(false);   // libnd4j's own kernels instead of oneDNN
            System.out.println("platform helpers (oneDNN) disabled");
        }
        part("conv1 1->6 28x28 same", 60, 1, 28, 6, 2, true, reps);
        part("conv2 6->16 14x14 valid", 60, 6, 14, 16, 0, false, reps);
        part("conv1 as truncate + explicit pad 2", 60, 1, 28, 6, 2, false, reps);
    }

    static void part(String name, int mb, int inC, int inHW, int outC, int pad, boolean same, int reps) {
        int k = 5;
        int outHW = same ? inHW : inHW + 2 * pad - k + 1;
        INDArray input = Nd4j.rand(DataType.FLOAT, mb, inC, inHW, inHW);
        INDArray w = Nd4j.rand(DataType.FLOAT, outC, inC, k, k);
        INDArray b = Nd4j.rand(DataType.FLOAT, 1, outC);
        INDArray col = Nd4j.createUninitialized(DataType.FLOAT, new long[]{mb, outHW, outHW, inC, k, k}, 'c');
        INDArray col2 = col.permute(0, 3, 4, 5, 1, 2);
        INDArray col2d = col.reshape('c', (long) mb * outHW * outHW, (long) inC * k * k);
        INDArray w2d = w.permute(3, 2, 1, 0).reshape('f', (long) k * k * inC, outC);
        INDArray z = Nd4j.createUninitialized(DataType.FLOAT, new long[]{col2d.size(0), outC}, 'f');
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, mb, outC, outHW, outHW);
        INDArray delta = Nd4j.rand(DataType.FLOAT, mb, outC, outHW, outHW);
        INDArray delta2d = delta.permute(1, 0, 2, 3).dup('c').reshape('c', outC, (long) mb * outHW * outHW);
        INDArray wGrad2df = Nd4j.createUninitialized(DataType.FLOAT, new long[]{outC, (long) inC * k * k}, 'c').transpose();
        INDArray epsIn = Nd4j.createUninitialized(DataType.FLOAT, mb, inC, inHW, inHW);
        INDArray epsNextOrig = Nd4j.createUninitialized(DataType.FLOAT, inC, mb, inHW, inHW);
        INDArray epsNext = epsNextOrig.permute(1, 0, 2, 3);
        INDArray gw = Nd4j.createUninitialized(DataType.FLOAT, outC, inC, k, k);
        INDArray gb = Nd4j.createUninitialized(DataType.FLOAT, 1, outC);
        int[] iargs = {k, k, 1, 1, pad, pad, 1, 1, same ? 1 : 0, 0, 1};

        System.out.println("== " + name);
        time("dl4j fwd: im2col into permuted 6d view", reps, () -> Convolution.im2col(input, k, k, 1, 1, pad, pad, 1, 1, same, col2));
        time("dl4j fwd: mmul col2d x W", reps, () -> col2d.mmuli(w2d, z));
        time("dl4j fwd: addiRowVector bias", reps, () -> z.addiRowVector(b));
        time("dl4j bwd: gemm weight grad", reps, () -> Nd4j.gemm(col2d, delta2d, wGrad2df, true, true, 1.0, 0.0));
        time("dl4j bwd: mmul W x delta (eps cols)", reps, () -> w2d.mmul(delta2d));
        INDArray epsCols = w2d.mmul(delta2d);
        INDArray eps6d = epsCols.reshape('f', k, k, inC, outHW, outHW, mb).permute(5, 2, 1, 0, 4, 3);
        time("dl4j bwd: col2im", reps, () -> Convolution.col2im(eps6d, epsNext, 1, 1, pad, pad, inHW, inHW, 1, 1));
        time("native conv2d op", reps, () -> Nd4j.exec(DynamicCustomOp.builder("conv2d")
                .addInputs(input, w, b).addOutputs(out).addIntegerArguments(iargs).build()));
        time("native conv2d_bp op", reps, () -> Nd4j.exec(DynamicCustomOp.builder("conv2d_bp")
                .addInputs(input, w, b, delta).addOutputs(epsIn, gw, gb).addIntegerArguments(iargs).build()));
    }

    static void time(String what, int reps, Runnable r) {
        for (int i = 0; i < 5; i++) r.run();
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) r.run();
        System.out.printf("  %-42s %7.3f ms%n", what, (System.nanoTime() - t0) / 1e6 / reps);
    }
}
