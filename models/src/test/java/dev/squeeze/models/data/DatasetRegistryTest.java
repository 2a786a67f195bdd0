package dev.squeeze.models.data;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.squeeze.models.data.BadInputs.expectBadInput;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetRegistryTest {

    @Test
    void knowsFashionMnistFirstThenMnist() {
        assertEquals(List.of("fashion-mnist", "mnist"), DatasetRegistry.names());
        assertEquals("fashion-mnist", DatasetRegistry.DEFAULT);
        assertSame(DatasetRegistry.get("mnist"), DatasetRegistry.get(" MNIST "));
    }

    @Test
    void unknownNameListsKnownNames() {
        expectBadInput(() -> DatasetRegistry.get("cifar"), "unknown dataset 'cifar'", "fashion-mnist, mnist");
        expectBadInput(() -> DatasetRegistry.get(null), "known datasets: fashion-mnist, mnist");
    }

    @Test
    void specsDescribe28x28GreyImagesInTenClasses() {
        for (String name : DatasetRegistry.names()) {
            DatasetSpec spec = DatasetRegistry.get(name);
            assertArrayEquals(new long[]{1, 28, 28}, spec.inputShape(), name);
            assertEquals(784, spec.featureSize(), name);
            assertEquals(10, spec.numClasses(), name);
            assertEquals(60_000, spec.train().count(), name);
            assertEquals(10_000, spec.test().count(), name);
            assertEquals(List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
                    spec.files().stream().map(DatasetFile::fileName).toList(), name);
            assertTrue(spec.baseUrls().stream().allMatch(u -> u.toString().endsWith("/")), name);
        }
        DatasetSpec fashion = DatasetRegistry.get("fashion-mnist");
        assertEquals("T-shirt/top", fashion.classNames().get(0));
        assertEquals("Ankle boot", fashion.classNames().get(9));
        assertEquals("dataset-fashion-mnist", fashion.systemPackage());
        assertTrue(fashion.files().stream().allMatch(f -> f.hashOf() == DatasetFile.HashOf.CONTENT));
        DatasetSpec mnist = DatasetRegistry.get("mnist");
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), mnist.classNames());
        assertEquals("https://ossci-datasets.s3.amazonaws.com/mnist/", mnist.baseUrls().get(0).toString());
        assertTrue(mnist.files().stream().allMatch(f -> f.hashOf() == DatasetFile.HashOf.FILE));
    }
}
