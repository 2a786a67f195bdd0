/** The model zoo: named architectures, each building a DL4J configuration with an init suited to its activation. */
package dev.squeeze.models.zoo;
