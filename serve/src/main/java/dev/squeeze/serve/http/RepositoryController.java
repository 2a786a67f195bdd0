package dev.squeeze.serve.http;

import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Produces;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.util.Map;

/** The model repository extension (Triton/KServe): list, load and unload; guarded by the API key when one is set. */
@Controller("/v2/repository")
@Tag(name = "repository")
public class RepositoryController {
    private final ModelServing serving;

    public RepositoryController(ModelServing serving) {
        this.serving = serving;
    }

    @Get("/index")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Every model folder with its version, state (READY, UNAVAILABLE, LOADING) and failure reason")
    public byte[] index() {
        return serving.index();
    }

    @Post(value = "/index", consumes = MediaType.ALL)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "As GET (Triton clients POST it)")
    public byte[] indexPost() {
        return serving.index();
    }

    @Post(value = "/models/{name}/load", consumes = MediaType.ALL)
    @Operation(summary = "Load or reload a model from its folder now")
    public HttpResponse<Map<String, Object>> load(String name) {
        serving.load(name);
        return HttpResponse.ok(Map.of("name", name, "loaded", true));
    }

    @Post(value = "/models/{name}/unload", consumes = MediaType.ALL)
    @Operation(summary = "Stop serving a model (requests in flight finish)")
    public HttpResponse<Map<String, Object>> unload(String name) {
        serving.unload(name);
        return HttpResponse.ok(Map.of("name", name, "unloaded", true));
    }
}
