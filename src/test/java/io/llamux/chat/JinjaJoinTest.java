package io.llamux.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Python's str.join and Jinja's join filter (with attribute=) share one join: both spellings checked. */
class JinjaJoinTest {
    private static String render(String template) {
        List<ChatMessage> messages = List.of(new ChatMessage("user", "hi"), new ChatMessage("assistant", "yo"));
        return ChatTemplate.parse(template).render(messages, "<s>", "</s>", false).text();
    }

    @Test
    void strJoinPutsTheSeparatorBetweenItemsOnly() {
        assertEquals("a, b, c", render("{{ ', '.join(['a', 'b', 'c']) }}"));
        assertEquals("", render("{{ '-'.join([]) }}"));
        assertEquals("1+2", render("{{ '+'.join([1, 2]) }}"));
    }

    @Test
    void theJoinFilterTakesASeparatorAndAnAttribute() {
        assertEquals("abc", render("{{ ['a', 'b', 'c'] | join }}"));
        assertEquals("user/assistant", render("{{ messages | join('/', attribute='role') }}"));
        assertEquals("hi|yo", render("{{ messages | join(d='|', attribute='content') }}"));
    }
}
