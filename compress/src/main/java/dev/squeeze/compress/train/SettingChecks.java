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

    /** A dataset Squeeze knows by name, or a CSV file. */
    public static final class Dataset implements SettingCheck {
        @Override
        public String apply(String name) {
            return Datasets.isCsv(name) ? name : DatasetRegistry.get(name).name();
        }

        @Override
        public String accepts() {
            return "a dataset name (" + String.join(", ", DatasetRegistry.names()) + ") or a .csv file";
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
