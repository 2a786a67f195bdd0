package dev.squeeze.models.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Cuts the committed test fixtures: the first {@code nTrain} training and first {@code nTest} test examples
 * of a full IDX dataset, written as gzipped IDX files under the same four names.
 *
 * <p>Redo them (from the repository root) with:
 * <pre>
 * ./mvnw -B -q -pl models test-compile
 * java -cp models/target/classes:models/target/test-classes dev.squeeze.models.data.FixtureCutter \
 *     /usr/share/datasets/fashion-mnist models/src/test/fixtures/fashion-mnist 2000 500
 * </pre>
 * The output is deterministic (gzip header time 0), so an unchanged source re-cuts to identical bytes;
 * {@code FixturesTest} checks exactly that when the system copy is installed.
 */
public final class FixtureCutter {

    public static final int TRAIN_EXAMPLES = 2000;
    public static final int TEST_EXAMPLES = 500;

    private FixtureCutter() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2 && args.length != 4) {
            System.err.println("usage: FixtureCutter SOURCE_DIR TARGET_DIR [N_TRAIN N_TEST]");
            System.exit(2);
        }
        int nTrain = args.length == 4 ? Integer.parseInt(args[2]) : TRAIN_EXAMPLES;
        int nTest = args.length == 4 ? Integer.parseInt(args[3]) : TEST_EXAMPLES;
        cut(Path.of(args[0]), Path.of(args[1]), nTrain, nTest);
    }

    /** Writes the first {@code nTrain}/{@code nTest} examples of the Fashion-MNIST files in {@code source} to {@code target}. */
    static void cut(Path source, Path target, int nTrain, int nTest) throws IOException {
        DatasetSpec spec = DatasetRegistry.get(DatasetRegistry.FASHION_MNIST);
        for (DatasetSpec.Split split : new DatasetSpec.Split[]{spec.train(), spec.test()}) {
            int n = split == spec.train() ? nTrain : nTest;
            for (DatasetFile file : new DatasetFile[]{split.images(), split.labels()}) {
                Path in = file.find(source).orElseThrow(() -> new IOException(source + " lacks " + file.fileName()));
                IdxFiles.write(target.resolve(file.fileName()), IdxFiles.gzip(head(in, n)));
            }
        }
    }

    /** The IDX content of {@code file} cut to its first {@code n} records, header count adjusted. */
    static byte[] head(Path file, int n) throws IOException {
        try (InputStream in = IdxReader.openContent(file)) {
            ByteBuffer magic = ByteBuffer.wrap(in.readNBytes(4));
            int magicNumber = magic.getInt();
            int[] dims = new int[magicNumber & 0xff];
            ByteBuffer header = ByteBuffer.wrap(in.readNBytes(4 * dims.length));
            int recordSize = 1;
            for (int d = 0; d < dims.length; d++) {
                dims[d] = header.getInt();
                if (d > 0) recordSize *= dims[d];
            }
            if (dims[0] < n) throw new IOException(file + " holds " + dims[0] + " records, fewer than " + n);
            dims[0] = n;
            byte[] data = in.readNBytes(n * recordSize);
            return IdxFiles.content(magicNumber, dims, data);
        }
    }
}
