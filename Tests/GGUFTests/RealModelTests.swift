// The project's real model: SmolLM2-135M-Instruct, Q4_1 (98 MB).
//
// These tests fail, rather than skip, when the model is missing: the rest of the project cannot
// work without it. Set TOOLROUTER_MODEL to use a copy elsewhere.

import Foundation
import Testing
@testable import GGUF

/// Path of the model: $TOOLROUTER_MODEL, else <package root>/models/SmolLM2-135M-Instruct.Q4_1.gguf.
private func modelPath() throws -> String {
    let path = ProcessInfo.processInfo.environment["TOOLROUTER_MODEL"]
        ?? packageRoot().appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    try #require(FileManager.default.fileExists(atPath: path), """
        Model file not found at \(path). Download SmolLM2-135M-Instruct.Q4_1.gguf into <package root>/models/ \
        or set TOOLROUTER_MODEL to its path.
        """)
    return path
}

@Test func realModelHeader() throws {
    let file = try GGUFFile(path: try modelPath())
    #expect(file.version == 3)
    #expect(file.tensors.count == 272)
    #expect(file.string("general.architecture") == "llama")
    #expect(file.int("llama.block_count") == 30)
    #expect(file.int("llama.embedding_length") == 576)
    #expect(file.stringArray("tokenizer.ggml.tokens")?.count == 49152)
    #expect(file.stringArray("tokenizer.ggml.merges")?.count == 48900)
    #expect(file.alignment == 32 && file.dataOffset % 32 == 0)

    let embedding = try #require(file.tensor(named: "token_embd.weight"))
    #expect(embedding.type == .q8_0)
    #expect(embedding.dims == [576, 49152])
    let query = try #require(file.tensor(named: "blk.0.attn_q.weight"))
    #expect(query.type == .q4_1)
    #expect(query.dims == [576, 576])
    #expect(file.tensor(named: "output.weight") == nil)

    // Tensors tile the data section in order without overlapping.
    var end = file.dataOffset
    for tensor in file.tensors {
        #expect(tensor.offset >= end && tensor.offset % file.alignment == 0, "\(tensor.name)")
        end = tensor.offset + tensor.byteCount
    }
    #expect(end <= file.fileSize)
}

@Test func realModelFirstEmbeddingRow() throws {
    let file = try GGUFFile(path: try modelPath())
    let embedding = try #require(file.tensor(named: "token_embd.weight"))
    let row = try Dequantize.row(embedding, in: file, rows: 0..<1)
    #expect(row.count == 576)
    #expect(row.allSatisfy { $0.isFinite })
    #expect(row.contains { $0 != 0 })
    // The last row too, which ends at the tensor's last byte.
    let last = try Dequantize.row(embedding, in: file, rows: 49151..<49152)
    #expect(last.count == 576 && last.allSatisfy { $0.isFinite } && last.contains { $0 != 0 })
}

@Test func realModelEveryTensorDequantisesItsFirstRow() throws {
    let file = try GGUFFile(path: try modelPath())
    for tensor in file.tensors {
        let row = try Dequantize.row(tensor, in: file, rows: 0..<1)
        #expect(row.count == tensor.dims[0] && row.allSatisfy { $0.isFinite }, "\(tensor.name)")
    }
}

@Test func realModelHeaderCutsAreTruncations() throws {
    let path = try modelPath()
    let file = try GGUFFile(path: path)
    let handle = try #require(FileHandle(forReadingAtPath: path))
    defer { try? handle.close() }
    let header = [UInt8](try handle.read(upToCount: file.dataOffset) ?? Data())
    #expect(header.count == file.dataOffset)
    // The header is ~1.7 MB; try 40 cuts spread across it (stopping short of the padding before
    // the data), plus every cut in the first 32 bytes.
    let cuts = Array(0..<32) + stride(from: 32, to: header.count - 64, by: max(1, header.count / 40))
    for cut in cuts {
        let error = caughtError { () throws(GGUFError) in _ = try GGUFFile(bytes: Array(header[..<cut])) }
        guard case let .truncated(offset, needed, fileSize, _) = error else {
            Issue.record("cut at \(cut): expected .truncated, got \(String(describing: error))")
            continue
        }
        #expect(fileSize == cut && offset <= cut && offset + needed > cut)
    }
}
