// What `serve` builds from its settings — the model, and a request pipeline with every catalogue prepared —
// at start and again at each reload.

import Daemon
import Foundation
import Inference
import Logging
import Router
import ToolCalls

/// A file's identity (device, inode, size, modification time): a reload reuses the loaded model while
/// the model file is the same file, and loads it again when it was replaced.
struct FileIdentity: Equatable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modified: Int
    let modifiedNanoseconds: Int

    /// The identity of the file at `path` (symlinks followed), or nil when it cannot be read.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
    }
}

/// The loaded model, kept between reloads.
struct LoadedModel {
    let path: String
    let identity: FileIdentity?
    let chatTemplateName: String?
    let engine: Engine

    /// The model at `path`: `previous` when it is the same unchanged file with the same template, else loaded now.
    static func load(_ path: String, chatTemplate: String?, reusing previous: LoadedModel?) throws -> LoadedModel {
        let identity = FileIdentity(path: path)
        if let previous, previous.path == path, let identity, previous.identity == identity, previous.chatTemplateName == chatTemplate {
            return previous
        }
        return LoadedModel(path: path, identity: identity, chatTemplateName: chatTemplate,
                           engine: try Engine.load(path, chatTemplate: chatTemplate))
    }
}

/// A pipeline ready to serve, with its catalogues in load order.
struct ServingBuild {
    let model: LoadedModel
    let pipeline: RequestPipeline
    let catalogues: [(name: String, catalogue: ToolCatalogue)]

    /// Loads (or reuses) the model, then each catalogue of `settings` with its adapter into a new
    /// pipeline: grammar compiled, prefix state computed. Nothing running is touched, so a failure leaves
    /// the daemon as it was. The token masks are left to `warmMasksInBackground()`, once serving: they
    /// are a cache, and warming them was most of start-up with a large vocabulary.
    static func make(_ settings: DaemonConfig, reusing previous: LoadedModel?, logger: Logger) throws -> ServingBuild {
        let model = try LoadedModel.load(ModelLocator.resolve(settings.model), chatTemplate: settings.chatTemplate, reusing: previous)
        let engine = model.engine
        let pipeline = RequestPipeline(model: engine.model, tokenizer: engine.tokenizer, template: engine.chatTemplate,
                                       maxTokens: settings.maxTokens, contextTokens: settings.contextTokens)
        pipeline.maskCacheBudgetBytes = settings.maskCacheBudgetMB << 20
        pipeline.warmsMasksOnLoad = false
        defer { pipeline.warmsMasksOnLoad = true }   // catalogues added later (MCP servers) are warmed as they load
        var loaded: [(name: String, catalogue: ToolCatalogue)] = []
        var adapters: [String: LoRAAdapter] = [:]   // by path: catalogues sharing an adapter share its weights
        for entry in settings.catalogues {
            let catalogue: ToolCatalogue
            do { catalogue = try ToolCatalogue(contentsOf: entry.file) } catch { throw CLIError("\(entry.file): \(error)") }
            var adapter: LoRAAdapter?
            if let path = entry.adapter {
                // The record is checked before the weights are read: a refused pairing costs no load.
                let outcome = try CatalogueBinding.check(
                    adapterPath: path, catalogue: catalogue, cataloguePath: entry.file, context: "catalogue \(entry.name): ",
                    allowMismatch: settings.allowCatalogueMismatch,
                    overrideHint: "pass --allow-catalogue-mismatch (config: \"allow_catalogue_mismatch\": true) to load it anyway")
                if let warning = CatalogueBinding.warning(outcome, override: "allow_catalogue_mismatch") {
                    logger.warning("\(warning.message)", metadata: ["catalogue": "\(entry.name)", "adapter": "\(path)", "detail": "\(warning.detail)"])
                }
                if adapters[path] == nil {
                    do { adapters[path] = try LoRAAdapter.load(path: path, config: engine.model.config) } catch {
                        throw CLIError("catalogue \(entry.name): adapter: \(error)")
                    }
                }
                adapter = adapters[path]
            }
            do { try pipeline.load(name: entry.name, catalogue: catalogue, adapter: adapter) } catch let error as CatalogueLoadError {
                throw CLIError("\(error)")   // names the catalogue itself
            } catch { throw CLIError("catalogue \(entry.name): \(error)") }
            loaded.append((entry.name, catalogue))
            logger.info("catalogue loaded", metadata: ["catalogue": "\(entry.name)", "tools": "\(catalogue.tools.count)",
                                                       "adapter": "\(adapter?.summary ?? "none")"])
        }
        return ServingBuild(model: model, pipeline: pipeline, catalogues: loaded)
    }

    /// Warms the configured catalogues' token masks on a thread of lower priority (nice 10), so requests
    /// that arrive meanwhile keep the cores first; a request needing an entry not yet warm computes it
    /// itself. Logs when done, with the time taken.
    func warmMasksInBackground(logger: Logger) {
        let warmUp = pipeline.maskWarmUp()
        let thread = Thread {
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)   // the nice value is per thread on Linux: this one
            let start = MonotonicClock.now()
            let entries = warmUp.run()
            logger.info("token masks warmed", metadata: ["catalogues": "\(warmUp.grammars.map(\.name).joined(separator: ","))",
                                                         "entries": "\(entries)", "warm_ms": "\(Int((MonotonicClock.now() - start) * 1000))"])
        }
        thread.name = "mask-warm-up"
        thread.start()
    }
}
