// Reload: the service switches to a new pipeline and catalogue list between requests.

import Inference
import Router
import Synchronization
import ToolCalls

extension RouterService {
    /// Serves `catalogues` on `pipeline` from now on, without stopping: the handler registry learns the
    /// new catalogues first (so their handlers may register), then the worker routes every request
    /// accepted from now on with `pipeline` (requests already queued finish on the pipeline they were
    /// accepted with), then the catalogue list that requests are checked against changes. A catalogue
    /// kept by the reload is answered throughout; one it removed gets `unknown catalogue`.
    public func reload(pipeline: RequestPipeline, catalogues: [(name: String, catalogue: ToolCatalogue)]) {
        handlers?.replaceCatalogues(catalogues.filter { mcp?.serves($0.name) != true })
        worker.replace(pipeline: pipeline)
        catalogueList.withLock { $0 = catalogues }
    }

    /// Serves `catalogue` as `name` from now on (with `adapter`), replacing a catalogue of that name, or
    /// stops serving `name` when `catalogue` is nil: an MCP server's tools as they are listed or change.
    /// The pipeline changes on the worker, between requests; the catalogue list after it.
    public func install(_ name: String, catalogue: ToolCatalogue?, adapter: LoRAAdapter?) async throws {
        if let catalogue {
            nonisolated(unsafe) let adapter = adapter
            try await worker.maintain { pipeline in _ = try pipeline.load(name: name, catalogue: catalogue, adapter: adapter) }
            catalogueList.withLock { list in
                if let index = list.firstIndex(where: { $0.name == name }) { list[index].catalogue = catalogue } else { list.append((name, catalogue)) }
            }
        } else {
            try await worker.maintain { pipeline in pipeline.unload(name: name) }
            catalogueList.withLock { $0.removeAll { $0.name == name } }
        }
    }
}
