package dev.squeeze.models.data;

import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.DatasetFile.HashOf;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The datasets Squeeze knows by name: {@value #FASHION_MNIST} (the default) and {@value #MNIST}.
 *
 * <p>Where the hashes come from:
 * <ul>
 *   <li>Fashion-MNIST: SHA-256 of the <em>decompressed</em> IDX files, measured on Debian's
 *       {@code dataset-fashion-mnist} package (upstream git 55506a9). Debian re-gzips the upstream files, so
 *       hashing the content rather than the gz bytes lets both the official download and the package verify.
 *   <li>MNIST: SHA-256 of the <em>gz files</em> as served (no content hashes are published), from
 *       tensorflow/datasets {@code url_checksums/mnist.txt} (cvdf-datasets mirror, sizes 9912422, 28881,
 *       1648877, 4542 bytes, the same as the original yann.lecun.com files); torchvision's Ruby port
 *       (torch.rb) checks the same hashes against the ossci-datasets mirror listed first here.
 * </ul>
 */
public final class DatasetRegistry {

    public static final String FASHION_MNIST = "fashion-mnist";
    public static final String MNIST = "mnist";
    /** The dataset used when none is named. */
    public static final String DEFAULT = FASHION_MNIST;

    private static final Map<String, DatasetSpec> SPECS = new LinkedHashMap<>();

    static {
        register(new DatasetSpec(FASHION_MNIST, "Fashion-MNIST",
                List.of(URI.create("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")),
                new DatasetSpec.Split("train",
                        new DatasetFile("train-images-idx3-ubyte.gz",
                                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", HashOf.CONTENT),
                        new DatasetFile("train-labels-idx1-ubyte.gz",
                                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", HashOf.CONTENT),
                        60_000),
                new DatasetSpec.Split("test",
                        new DatasetFile("t10k-images-idx3-ubyte.gz",
                                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", HashOf.CONTENT),
                        new DatasetFile("t10k-labels-idx1-ubyte.gz",
                                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", HashOf.CONTENT),
                        10_000),
                List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
                // Upside-down clothes are not what the classes show; left and right are both worn.
                1, 28, 28, "dataset-fashion-mnist", Set.of(Flip.VERTICAL)));

        register(new DatasetSpec(MNIST, "MNIST",
                List.of(URI.create("https://ossci-datasets.s3.amazonaws.com/mnist/"),
                        URI.create("https://storage.googleapis.com/cvdf-datasets/mnist/")),
                new DatasetSpec.Split("train",
                        new DatasetFile("train-images-idx3-ubyte.gz",
                                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", HashOf.FILE),
                        new DatasetFile("train-labels-idx1-ubyte.gz",
                                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", HashOf.FILE),
                        60_000),
                new DatasetSpec.Split("test",
                        new DatasetFile("t10k-images-idx3-ubyte.gz",
                                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", HashOf.FILE),
                        new DatasetFile("t10k-labels-idx1-ubyte.gz",
                                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", HashOf.FILE),
                        10_000),
                List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
                // A mirrored digit is no digit, and flipped upside down a 6 reads as a 9.
                1, 28, 28, null, Set.of(Flip.HORIZONTAL, Flip.VERTICAL)));
    }

    private DatasetRegistry() {
    }

    private static void register(DatasetSpec spec) {
        SPECS.put(spec.name(), spec);
    }

    /** The spec named {@code name} (case-insensitive); unknown names are a {@link BadInputException}. */
    public static DatasetSpec get(String name) {
        DatasetSpec spec = name == null ? null : SPECS.get(name.trim().toLowerCase(Locale.ROOT));
        if (spec == null) {
            throw new BadInputException("unknown dataset '" + name + "'; known datasets: "
                    + String.join(", ", names()));
        }
        return spec;
    }

    /** Known dataset names, the default first. */
    public static List<String> names() {
        return List.copyOf(SPECS.keySet());
    }
}
