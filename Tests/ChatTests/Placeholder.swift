import Testing

@Test func placeholderChatTests() {}
