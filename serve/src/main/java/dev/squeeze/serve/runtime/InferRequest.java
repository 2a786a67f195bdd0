package dev.squeeze.serve.runtime;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * An inference request decoded and checked against a model by {@link InferenceProtocol#parseRequest}.
 *
 * @param id      the client's request id, echoed in the response; null when the request has none
 * @param inputs  one tensor per model input, in the model's input order
 * @param outputs the outputs asked for, in the order asked; empty for all of the model's outputs
 */
public record InferRequest(String id, List<HostTensor> inputs, Set<String> outputs) {

    public InferRequest {
        inputs = List.copyOf(inputs);
        outputs = Collections.unmodifiableSet(new LinkedHashSet<>(outputs));
    }
}
