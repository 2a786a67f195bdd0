package dev.squeeze.compress.ledger;

import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static dev.squeeze.compress.ledger.SqliteRunLedgerTest.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The ledger contract on PostgreSQL. Tagged {@code postgres}: the build runs it only in the profile that
 * {@code SQUEEZE_TEST_PG_URL} switches on (set it with {@code .ci/postgres-setup.sh}). Each test gets its own
 * schema, selected with the driver's {@code currentSchema} parameter, and drops it afterwards.
 */
@Tag("postgres")
class PostgresRunLedgerTest extends RunLedgerContract {

    static final String URL_ENV = "SQUEEZE_TEST_PG_URL";

    String schema;

    static String baseUrl() {
        String url = System.getenv(URL_ENV);
        if (url == null || url.isBlank()) {
            fail(URL_ENV + " is not set; run `eval \"$(.ci/postgres-setup.sh)\"` first, or leave out the postgres tests");
        }
        return url;
    }

    static String withParameter(String url, String parameter) {
        return url + (url.contains("?") ? "&" : "?") + parameter;
    }

    @Override
    String freshLocation() throws SQLException {
        schema = "ledger_test_" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        try (Connection c = DriverManager.getConnection(baseUrl()); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        return withParameter(baseUrl(), "currentSchema=" + schema);
    }

    @Override
    Connection rawConnection() throws SQLException {
        return DriverManager.getConnection(location);
    }

    @Override
    String textType() {
        return "TEXT COLLATE \"C\"";
    }

    @AfterEach
    void dropSchema() throws SQLException {
        if (schema == null) return;
        if (ledger != null) ledger.close();
        try (Connection c = DriverManager.getConnection(baseUrl()); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA " + schema + " CASCADE");
        }
    }

    @Test
    void credentialsCanComeFromTheEnvironment() {
        String url = baseUrl();
        String user = parameter(url, "user");
        String password = parameter(url, "password");
        String bare = withParameter(url.substring(0, url.indexOf('?')), "currentSchema=" + schema);
        try (RunLedger fromEnv = RunLedger.open(bare, Map.of(RunLedger.USER_ENV, user, RunLedger.PASSWORD_ENV, password))) {
            fromEnv.start(train("m"));
            assertEquals(1, fromEnv.query(RunQuery.all()).size());
        }
    }

    @Test
    void aWrongPasswordIsAClearErrorThatDoesNotPrintIt() {
        String url = baseUrl().replaceAll("password=[^&]*", "password=wrong-secret");
        BadInputException e = assertThrows(BadInputException.class, () -> RunLedger.open(url, Map.of()));
        assertOneLine(e);
        assertTrue(e.getMessage().contains("cannot open ledger jdbc:postgresql://"), e.getMessage());
        assertFalse(e.getMessage().contains("wrong-secret"), e.getMessage());
    }

    @Test
    void anUnreachableServerIsAClearError() {
        BadInputException e = assertThrows(BadInputException.class,
                () -> RunLedger.open("jdbc:postgresql://127.0.0.1:1/squeeze?user=u&password=p", Map.of()));
        assertOneLine(e);
        assertTrue(e.getMessage().contains("127.0.0.1:1"), e.getMessage());
    }

    @Test
    void aMalformedUrlIsAClearError() {
        BadInputException e = assertThrows(BadInputException.class,
                () -> RunLedger.open("jdbc:postgresql://127.0.0.1:notaport/db", Map.of()));
        assertOneLine(e);
        assertTrue(e.getMessage().contains("not a valid PostgreSQL URL"), e.getMessage());
    }

    private static String parameter(String url, String name) {
        for (String pair : url.substring(url.indexOf('?') + 1).split("&")) {
            if (pair.startsWith(name + "=")) return pair.substring(name.length() + 1);
        }
        return fail("the test URL has no " + name + "= parameter");
    }
}
