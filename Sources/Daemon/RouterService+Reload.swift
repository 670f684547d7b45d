// Reload: the service switches to a new pipeline and catalogue list between requests.

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
        handlers?.replaceCatalogues(catalogues)
        worker.replace(pipeline: pipeline)
        catalogueList.withLock { $0 = catalogues }
    }
}
