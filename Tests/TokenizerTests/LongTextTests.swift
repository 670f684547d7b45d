import GGUF
import Testing
@testable import Tokenizer

/// A long text through the tokenizer: its length in tokens is plausible and it comes back byte for byte,
/// whole and streamed. How fast is `toolrouter bench tokenizer`'s question (a release build's numbers),
/// not the tests'.
@Suite struct LongTextTests {
    /// About 700 tokens: two copies of a paragraph of plain English.
    static let english = paragraph + "\n\n" + paragraph

    private static let paragraph = """
        The customer wrote in on Tuesday morning to ask where her order had gone. She had placed it \
        nine days earlier, paid for express shipping, and received a confirmation email with a tracking \
        link that, she said, still showed the parcel sitting in a warehouse outside Rotterdam. Our support \
        assistant looked the order up, saw that the carrier had scanned it twice since, and explained that \
        the tracking page she was looking at belonged to the first leg of the journey only. It then offered \
        three options: wait for the delivery, which the carrier now expected on Friday; change the delivery \
        address to a pickup point near her office; or cancel the order and receive a full refund within five \
        working days. She chose the pickup point, asked whether the express shipping fee would be refunded \
        given the delay, and was told that it would be, automatically, once the parcel was collected. \
        Later that afternoon a second customer asked a question of a rather different kind. He wanted to know \
        whether the warranty on his coffee grinder covered a burr set that had worn out after eighteen months \
        of daily use, or whether wear parts were excluded. The assistant found the warranty terms for his \
        model, quoted the relevant clause, and pointed out that burrs were listed as consumables, but that the \
        manufacturer sold replacement sets and published a short guide to fitting them. He thanked it, said he \
        had not realised the burrs could be replaced at home, and ordered a set. Neither conversation needed a \
        human agent, and both ended with the customer getting what they actually wanted, which is the whole \
        point of routing requests to the right tool in the first place. Small models can do this well when the \
        tools are described clearly, the outputs are constrained to valid calls, and the prompts are short.
        """

    @Test func encodingSixHundredTokensOfEnglish() throws {
        let tokenizer = try TestModel.tokenizer()
        let ids = tokenizer.encode(LongTextTests.english, parseSpecial: true)
        #expect((500...800).contains(ids.count), "\(ids.count) tokens")
        #expect(try tokenizer.decode(ids) == Array(LongTextTests.english.utf8))
        #expect(tokenizer.encode(LongTextTests.english, parseSpecial: false) == ids, "no control tokens in plain English")
    }

    @Test func streamingDecodeGivesTheTextBack() throws {
        let tokenizer = try TestModel.tokenizer()
        let ids = tokenizer.encode(LongTextTests.english, parseSpecial: true)
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var text = ""
        for id in ids { text += try decoder.feed(id) }
        text += decoder.finish()
        #expect(text == LongTextTests.english)
    }
}
