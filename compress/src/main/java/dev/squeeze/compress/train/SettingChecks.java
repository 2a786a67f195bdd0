package dev.squeeze.compress.train;

import dev.squeeze.compress.artifacts.RewindPoint;
import dev.squeeze.core.settings.SettingCheck;
import dev.squeeze.models.data.DatasetRegistry;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.zoo.Inits;
import dev.squeeze.models.zoo.ModelZoo;

/** The checks of the string settings the stages share ({@link dev.squeeze.core.settings.Setting#check()}). */
public final class SettingChecks {
    private SettingChecks() {
    }

    /** A model of the zoo. */
    public static final class ZooModel implements SettingCheck {
        @Override
        public String apply(String name) {
            ModelZoo.get(name);
            return name;
        }

        @Override
        public String accepts() {
            return "a zoo model (" + String.join(", ", ModelZoo.all().keySet()) + ")";
        }
    }

    /**
     * A dataset Squeeze knows by name, a CSV file, or an image folder ({@link Datasets#isImageFolder}: a path, or an
     * existing folder); whether the file or folder exists is checked when the stage opens it.
     */
    public static final class Dataset implements SettingCheck {
        @Override
        public String apply(String name) {
            return Datasets.isCsv(name) || Datasets.isImageFolder(name) ? name : DatasetRegistry.get(name).name();
        }

        @Override
        public String accepts() {
            return "a dataset name (" + String.join(", ", DatasetRegistry.names()) + "), a .csv file or an image folder";
        }
    }

    /** An image size {@code HxW} in pixels, canonical: {@code 28x28}. */
    public static final class ImageSize implements SettingCheck {
        @Override
        public String apply(String text) {
            int[] size = Datasets.ImageOptions.parseSize(text);
            return size[0] + "x" + size[1];
        }

        @Override
        public String accepts() {
            return "an image size HEIGHTxWIDTH in pixels, such as 28x28";
        }
    }

    /** A weight initialisation DL4J knows ({@link Inits#parse}), kept as written. */
    public static final class WeightInitName implements SettingCheck {
        @Override
        public String apply(String name) {
            Inits.parse(name);
            return name;
        }

        @Override
        public String accepts() {
            return "a weight init (he, xavier, zero, lecun_normal, uniform, or another DL4J WeightInit name)";
        }
    }

    /** A point of training to rewind to or snapshot at, canonical: {@code 0}, {@code 500it}, {@code 1ep}. */
    public static final class TrainingPoint implements SettingCheck {
        @Override
        public String apply(String text) {
            return RewindPoint.parse(text).label();
        }

        @Override
        public String accepts() {
            return "0, an iteration like 500it, or an epoch like 1ep";
        }
    }
}
