package dev.squeeze.models.data;

import dev.squeeze.core.BadInputException;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files (the MNIST format): idx3 unsigned-byte images and idx1 unsigned-byte labels, gzipped or
 * raw (gzip is recognised by its magic bytes, not by the file name).
 *
 * <p>Everything the header declares is checked against what the file holds: magic number, element type,
 * number of dimensions, counts versus bytes present, nothing after the data. Each problem is a
 * {@link BadInputException} whose one-line message names the file, the problem and what to do.
 */
public final class IdxReader {

    /** Magic number of an idx3 unsigned-byte file: 0x00 0x00, type 0x08 (ubyte), 3 dimensions. */
    public static final int IMAGES_MAGIC = 0x0803;
    /** Magic number of an idx1 unsigned-byte file: 0x00 0x00, type 0x08 (ubyte), 1 dimension. */
    public static final int LABELS_MAGIC = 0x0801;

    // Java arrays cap out just below Integer.MAX_VALUE.
    private static final long MAX_DATA_BYTES = Integer.MAX_VALUE - 8;
    private static final String REMEDY = "re-download it or point --data at a complete copy";

    private IdxReader() {
    }

    /**
     * Images of an idx3 file, flattened row-major: image {@code i} occupies
     * {@code pixels[i*rows*cols .. (i+1)*rows*cols)}. Pixels are the raw values 0..255, not scaled
     * (normalization is fitted and applied elsewhere). The array is not copied.
     */
    public record Images(int count, int rows, int cols, float[] pixels) {
    }

    /** The images of an idx3 unsigned-byte file. */
    public static Images readImages(Path file) {
        Idx idx = read(file, IMAGES_MAGIC);
        float[] pixels = new float[idx.data.length];
        for (int i = 0; i < pixels.length; i++) pixels[i] = idx.data[i] & 0xff;
        return new Images(idx.dims[0], idx.dims[1], idx.dims[2], pixels);
    }

    /** The labels of an idx1 unsigned-byte file, as values 0..255 (the caller checks them against its classes). */
    public static int[] readLabels(Path file) {
        Idx idx = read(file, LABELS_MAGIC);
        int[] labels = new int[idx.data.length];
        for (int i = 0; i < labels.length; i++) labels[i] = idx.data[i] & 0xff;
        return labels;
    }

    /**
     * The file's IDX bytes: decompressed when it starts with the gzip magic {@code 1f 8b}, as stored otherwise.
     * The caller closes the stream.
     */
    static InputStream openContent(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            return isGzip(in) ? new GZIPInputStream(in, 1 << 16) : in;
        } catch (IOException e) {
            in.close();
            throw e;
        }
    }

    private static boolean isGzip(InputStream in) throws IOException {
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        return b0 == 0x1f && b1 == 0x8b;
    }

    /** A parsed IDX file: its dimensions (count first) and its unsigned-byte data. */
    private record Idx(int[] dims, byte[] data) {
    }

    private static Idx read(Path file, int expectedMagic) {
        // What is known so far, for messages about a file that ends early.
        boolean gzip = false;
        long contentBytes = 0;
        String declared = null;
        try (InputStream in = openContent(file)) {
            gzip = in instanceof GZIPInputStream;

            byte[] magicBytes = in.readNBytes(4);
            contentBytes = magicBytes.length;
            if (magicBytes.length < 4) {
                throw bad(file, "only " + magicBytes.length + " bytes, too short to be an IDX file; " + REMEDY);
            }
            int magic = ByteBuffer.wrap(magicBytes).getInt();
            if (magic != expectedMagic) throw badMagic(file, magic, expectedMagic, gzip);

            int rank = expectedMagic & 0xff;
            byte[] header = in.readNBytes(4 * rank);
            contentBytes += header.length;
            if (header.length < 4 * rank) {
                throw bad(file, "truncated: the header needs " + (4 + 4 * rank) + " bytes but the "
                        + holder(gzip) + " holds " + contentBytes + "; " + REMEDY);
            }
            int[] dims = new int[rank];
            long dataBytes = 1;
            ByteBuffer dimBuffer = ByteBuffer.wrap(header);
            for (int d = 0; d < rank; d++) {
                dims[d] = dimBuffer.getInt();
                // The count may be 0; image rows and columns may not.
                if (dims[d] < 0 || (d > 0 && dims[d] == 0)) {
                    throw bad(file, "the header declares an impossible size " + Integer.toUnsignedString(dims[d])
                            + " in dimension " + d + "; the file is corrupt: " + REMEDY);
                }
                dataBytes *= dims[d];
            }
            long expectedTotal = 4 + 4L * rank + dataBytes;
            declared = "header declares " + describe(dims) + " (" + expectedTotal + " bytes)";
            if (dataBytes > MAX_DATA_BYTES) {
                throw bad(file, "the " + declared + ", more than one array can hold; "
                        + "the file is corrupt or not MNIST-sized");
            }

            byte[] data = new byte[(int) dataBytes];
            int got = 0;
            for (int n; got < data.length && (n = in.read(data, got, data.length - got)) >= 0; ) {
                got += n;
                contentBytes += n;
            }
            if (got < data.length) {
                throw bad(file, "truncated: " + declared + " but the " + holder(gzip) + " holds " + contentBytes
                        + "; " + REMEDY);
            }
            long trailing = in.transferTo(OutputStream.nullOutputStream());
            if (trailing > 0) {
                throw bad(file, trailing + " unexpected bytes after the data: " + declared + " but the "
                        + holder(gzip) + " holds " + (expectedTotal + trailing)
                        + "; the file is corrupt or not what its name says: " + REMEDY);
            }
            return new Idx(dims, data);
        } catch (BadInputException e) {
            throw e;
        } catch (EOFException e) {
            // GZIPInputStream's way of saying the compressed stream was cut short.
            throw bad(file, "truncated: " + (declared != null ? declared + " but the" : "the")
                    + " gzip stream ends after " + contentBytes + " decompressed bytes; " + REMEDY);
        } catch (ZipException e) {
            throw bad(file, "corrupt gzip data (" + e.getMessage() + "); " + REMEDY);
        } catch (NoSuchFileException e) {
            throw bad(file, "no such file; check the path");
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read it (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + "); check that it is a readable file", e);
        }
    }

    private static BadInputException badMagic(Path file, int magic, int expected, boolean gzip) {
        String problem;
        if (magic == (expected == IMAGES_MAGIC ? LABELS_MAGIC : IMAGES_MAGIC)) {
            problem = "is an IDX " + kind(magic) + " file (magic " + magic + ") where " + kind(expected)
                    + " (magic " + expected + ") were expected; are the image and label files swapped?";
        } else {
            problem = String.format("not an IDX %s file: magic number 0x%08x, expected 0x%08x (%d)%s; "
                            + "the file is corrupt or something else: %s",
                    kind(expected), magic, expected, expected,
                    !gzip && file.getFileName().toString().endsWith(".gz")
                            ? " and, despite its .gz name, it is not gzip-compressed" : "",
                    REMEDY);
        }
        return bad(file, problem);
    }

    private static String kind(int magic) {
        return magic == IMAGES_MAGIC ? "images" : "labels";
    }

    private static String describe(int[] dims) {
        return dims.length == 3
                ? dims[0] + " images of " + dims[1] + "x" + dims[2]
                : dims[0] + " labels";
    }

    private static String holder(boolean gzip) {
        return gzip ? "decompressed file" : "file";
    }

    private static BadInputException bad(Path file, String problem) {
        return new BadInputException(file + ": " + problem);
    }
}
