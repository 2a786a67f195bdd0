package dev.squeeze.models.data;

/**
 * A mirror image of an example. Augmentation flips training images; a dataset says which flips turn an example
 * into something its label no longer describes ({@link Dataset#labelChangingFlips()}): a digit read in a mirror
 * is no longer that digit, and a 6 upside down reads as a 9.
 */
public enum Flip {
    /** Left and right swapped. */
    HORIZONTAL,
    /** Top and bottom swapped. */
    VERTICAL
}
