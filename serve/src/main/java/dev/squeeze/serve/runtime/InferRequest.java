package dev.squeeze.serve.runtime;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * An inference request decoded and checked against a model by {@link InferenceProtocol#parseRequest}.
 *
 * @param id            the client's request id, echoed in the response; null when the request has none
 * @param inputs        one tensor per model input, in the model's input order
 * @param outputs       the outputs asked for, in the order asked; empty for all of the model's outputs
 * @param binaryOutputs the outputs to answer as binary tensor data (the HTTP protocol's binary tensor data extension:
 *                      {@code binary_data} on an output, {@code binary_data_output} on the request); empty: all as JSON
 */
public record InferRequest(String id, List<HostTensor> inputs, Set<String> outputs, Set<String> binaryOutputs) {

    public InferRequest {
        inputs = List.copyOf(inputs);
        outputs = Collections.unmodifiableSet(new LinkedHashSet<>(outputs));
        binaryOutputs = Collections.unmodifiableSet(new LinkedHashSet<>(binaryOutputs));
    }

    /** A request whose outputs are all answered in the protocol's usual form (JSON data, gRPC contents). */
    public InferRequest(String id, List<HostTensor> inputs, Set<String> outputs) {
        this(id, inputs, outputs, Set.of());
    }
}
