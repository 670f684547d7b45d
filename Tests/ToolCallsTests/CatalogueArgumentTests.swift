// The demo catalogues' parameter schemas, used as validators on hand-written argument objects.

import Testing
import JSON
import ToolCalls

@Suite struct CatalogueArgumentTests {
    static let support: [(tool: String, arguments: String, valid: Bool)] = [
        ("track_order", #"{"order_id":"ORD-1234"}"#, true),
        ("track_order", #"{"order_id":"ORD-123"}"#, false),
        ("track_order", #"{"order_id":"ORD-1234","note":"x"}"#, false),
        ("track_order", "{}", false),
        ("request_refund", #"{"order_id":"ORD-98765432","reason":"arrived broken","amount":12.5}"#, true),
        ("request_refund", #"{"order_id":"ORD-98765432","reason":"no"}"#, false),
        ("request_refund", #"{"order_id":"ORD-9876","reason":"late delivery","amount":-1}"#, false),
        ("request_refund", #"{"order_id":"ORD-9876","reason":"late delivery","amount":"12"}"#, false),
        ("update_address", #"{"order_id":"ORD-5555","address":{"street":"1 Main St","city":"Springfield","postal_code":"12345","country":"US"}}"#, true),
        ("update_address", #"{"order_id":"ORD-5555","address":{"street":"1 Main St","city":"Springfield","postal_code":"12345","country":"us"}}"#, false),
        ("update_address", #"{"order_id":"ORD-5555","address":{"street":"","city":"Springfield","postal_code":"12","country":"US"}}"#, false),
        ("escalate", #"{"reason":"customer is upset","priority":"urgent"}"#, true),
        ("escalate", #"{"reason":"customer is upset","priority":"high"}"#, false),
    ]

    static let devops: [(tool: String, arguments: String, valid: Bool)] = [
        ("get_service_status", #"{"service":"checkout-api"}"#, true),
        ("get_service_status", #"{"service":"Checkout"}"#, false),
        ("restart_service", #"{"service":"auth","force":true}"#, true),
        ("restart_service", #"{"service":"auth","force":"yes"}"#, false),
        ("scale_deployment", #"{"name":"web","replicas":3}"#, true),
        ("scale_deployment", #"{"name":"web","replicas":3.0}"#, true),
        ("scale_deployment", #"{"name":"web","replicas":2.5}"#, false),
        ("scale_deployment", #"{"name":"web","replicas":101}"#, false),
        ("query_logs", #"{"service":"db","since_minutes":1440,"level":"error","contains":"timeout"}"#, true),
        ("query_logs", #"{"service":"db","since_minutes":0}"#, false),
        ("page_oncall", #"{"team":"payments","severity":"sev1","summary":"card auth failing"}"#, true),
        ("page_oncall", #"{"team":"payments","severity":"sev0","summary":"down"}"#, false),
        ("create_ticket", #"{"title":"Rotate TLS certs","labels":["security","ops"],"assignee":"kim"}"#, true),
        ("create_ticket", #"{"title":"Rotate TLS certs","labels":["a","b","c","d","e","f"]}"#, false),
        ("create_ticket", #"{"title":"Rotate TLS certs","labels":["Security"]}"#, false),
    ]

    @Test func supportArguments() throws {
        try check(Self.support, in: supportCatalogue())
    }

    @Test func devopsArguments() throws {
        try check(Self.devops, in: devopsCatalogue())
    }

    @Test func everyCatalogueSchemaIsSupported() throws {
        for catalogue in [try supportCatalogue(), try devopsCatalogue()] {
            for tool in catalogue.tools {
                _ = try SchemaValidator(schema: tool.parameters)
            }
        }
    }

    private func check(_ cases: [(tool: String, arguments: String, valid: Bool)], in catalogue: ToolCatalogue) throws {
        for (name, text, valid) in cases {
            let tool = try #require(catalogue.tool(named: name))
            let validator = try SchemaValidator(schema: tool.parameters)
            let issues = validator.validate(try json(text))
            #expect(issues.isEmpty == valid, "\(name) \(text): \(issues)")
        }
    }
}
