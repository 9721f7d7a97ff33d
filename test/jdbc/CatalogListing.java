/*
 * What a BI tool reading gridflow's catalog through JDBC is shown, as each
 * reader role (see README, "BI tools"): DatabaseMetaData.getTables() over
 * every schema but pg_catalog and information_schema, with the connection
 * property hideUnprivilegedObjects and without it; getColumns() and
 * getPrimaryKeys() of every relation of gridflow's schemas listed with it.
 * Prints a deterministic listing on standard output (test/bi.sh compares
 * it with test/jdbc/expected/catalog.out) and checks two things:
 *
 *   - every relation listed to a role with hideUnprivilegedObjects can be
 *     read by it (SELECT * FROM it LIMIT 1); the relations of
 *     test/jdbc/known_issues.txt are known not to be, and that file must
 *     name exactly those;
 *   - no partition is listed in the schemas readers read, and none with
 *     hideUnprivilegedObjects at all.
 *
 * What a BI tool would stumble on (a relation listed that the role cannot
 * read, a relation or column without REMARKS, a numeric column without
 * precision, a relation with neither a primary key nor its grain in its
 * REMARKS) is listed under "findings" at the end.
 *
 * Exits 1 when a check fails, 2 on a connection or driver error.
 *
 *   java -cp DIR:/usr/share/java/postgresql.jar CatalogListing HOST PORT DATABASE KNOWN_ISSUES ROLE...
 *
 * Each ROLE is "name:description"; the password of every role is in the
 * environment variable GRIDFLOW_BI_PASSWORD.
 */
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

public class CatalogListing
{
	static final String[] TYPES = {"TABLE", "VIEW", "PARTITIONED TABLE", "FOREIGN TABLE", "MATERIALIZED VIEW"};
	/* gridflow's schemas */
	static final Set<String> GRIDFLOW = new TreeSet<>(List.of("gridflow", "landing", "standardized",
		"product", "experience", "dq", "external", "gridflow_store", "gridflow_next"));
	/* the schemas readers read: no partition belongs there */
	static final Set<String> READER = new TreeSet<>(List.of("gridflow", "landing", "standardized",
		"product", "experience", "dq", "external"));

	static final class Rel
	{
		final String type, schema, name, remarksText;
		final boolean remarks;

		Rel(String type, String schema, String name, String remarksText)
		{
			this.type = type;
			this.schema = schema;
			this.name = name;
			this.remarksText = remarksText == null ? "" : remarksText;
			this.remarks = !this.remarksText.isEmpty();
		}

		String qualified()
		{
			return schema + "." + name;
		}
	}

	static String url;
	static String password;
	static final List<String> failures = new ArrayList<>();
	static final Set<String> unreadable = new TreeSet<>();
	static final List<String> findings = new ArrayList<>();

	public static void main(String[] args) throws Exception
	{
		if (args.length < 5)
		{
			System.err.println("usage: CatalogListing HOST PORT DATABASE KNOWN_ISSUES ROLE:DESCRIPTION...");
			System.exit(2);
		}
		url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/" + args[2];
		password = System.getenv("GRIDFLOW_BI_PASSWORD");
		Set<String> known = readKnown(args[3]);

		try
		{
			java.sql.Driver d = DriverManager.getDriver(url);

			System.err.println("CatalogListing: PostgreSQL JDBC driver " + d.getMajorVersion() + "." + d.getMinorVersion()
							   + " (" + d.getClass().getPackage().getImplementationVersion() + ")");
			for (int i = 4; i < args.length; i++)
			{
				String[] r = args[i].split(":", 2);
				role(r[0], r.length > 1 ? r[1] : "");
			}
		}
		catch (SQLException e)
		{
			System.err.println("CatalogListing: " + e.getSQLState() + " " + e.getMessage());
			System.exit(2);
		}

		/* the relations listed but unreadable are exactly the known ones */
		for (String u : unreadable)
			if (!known.contains(u))
				failures.add("listed with hideUnprivilegedObjects but not readable: " + u);
		for (String k : known)
			if (!unreadable.contains(k))
				failures.add("known issue no longer seen (remove it from " + args[3] + "): " + k);

		System.out.println();
		System.out.println("# findings");
		for (String f : findings)
			System.out.println(f);
		System.out.flush();
		for (String f : failures)
			System.err.println("CatalogListing: FAILED: " + f);
		System.exit(failures.isEmpty() ? 0 : 1);
	}

	/* "role<TAB>schema.relation" lines; # starts a comment */
	static Set<String> readKnown(String path) throws IOException
	{
		Set<String> known = new TreeSet<>();

		for (String line : Files.readAllLines(Paths.get(path), StandardCharsets.UTF_8))
		{
			int hash = line.indexOf('#');
			String l = (hash >= 0 ? line.substring(0, hash) : line).strip();

			if (!l.isEmpty())
				known.add(l.replaceAll("\\s+", "\t"));
		}
		return known;
	}

	static Connection connect(String role, boolean hide) throws SQLException
	{
		Properties p = new Properties();

		p.setProperty("user", role);
		if (password != null)
			p.setProperty("password", password);
		p.setProperty("hideUnprivilegedObjects", Boolean.toString(hide));
		p.setProperty("ApplicationName", "gridflow jdbc catalog test");
		return DriverManager.getConnection(url, p);
	}

	static List<Rel> tables(Connection c) throws SQLException
	{
		List<Rel> rels = new ArrayList<>();

		try (ResultSet rs = c.getMetaData().getTables(null, null, "%", TYPES))
		{
			while (rs.next())
			{
				String schema = rs.getString("TABLE_SCHEM");
				String remarks = rs.getString("REMARKS");

				if (schema.equals("pg_catalog") || schema.equals("information_schema"))
					continue;
				rels.add(new Rel(rs.getString("TABLE_TYPE"), schema, rs.getString("TABLE_NAME"), remarks));
			}
		}
		rels.sort((a, b) -> a.qualified().compareTo(b.qualified()));
		return rels;
	}

	/* Is relation oid a partition? (pg_class is readable by every role) */
	static boolean isPartition(Connection c, Rel r) throws SQLException
	{
		try (PreparedStatement ps = c.prepareStatement(
				"SELECT c.relispartition FROM pg_catalog.pg_class c "
				+ "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
				+ "WHERE n.nspname = ? AND c.relname = ?"))
		{
			ps.setString(1, r.schema);
			ps.setString(2, r.name);
			try (ResultSet rs = ps.executeQuery())
			{
				return rs.next() && rs.getBoolean(1);
			}
		}
	}

	static String quote(String ident)
	{
		return "\"" + ident.replace("\"", "\"\"") + "\"";
	}

	/* SELECT * FROM the relation LIMIT 1: "ok", or the error */
	static String read(Connection c, Rel r)
	{
		try (Statement s = c.createStatement())
		{
			s.executeQuery("SELECT * FROM " + quote(r.schema) + "." + quote(r.name) + " LIMIT 1").close();
			return "ok";
		}
		catch (SQLException e)
		{
			String m = e.getMessage().replaceFirst("^ERROR: ", "").replaceAll("\\s+Position: \\d+", "");

			return "denied (" + e.getSQLState() + ": " + m.replaceAll("\\s+", " ") + ")";
		}
	}

	static void role(String role, String description) throws SQLException
	{
		System.out.println("# role " + role + (description.isEmpty() ? "" : " (" + description + ")"));
		System.out.println();

		try (Connection all = connect(role, false); Connection hidden = connect(role, true))
		{
			DatabaseMetaData md = hidden.getMetaData();
			List<Rel> listed = tables(all);
			List<Rel> shown = tables(hidden);

			System.out.println("## getTables(null, null, \"%\", " + String.join(", ", TYPES)
							   + "), hideUnprivilegedObjects=false: " + listed.size() + " relations");
			for (Rel r : listed)
			{
				System.out.println(r.type + "\t" + r.qualified() + "\tremarks=" + (r.remarks ? "yes" : "no"));
				if (READER.contains(r.schema) && isPartition(all, r))
					failures.add(role + ": partition listed in a reader schema: " + r.qualified());
			}
			System.out.println();

			System.out.println("## the same, hideUnprivilegedObjects=true: " + shown.size() + " relations");
			for (Rel r : shown)
			{
				String read = read(hidden, r);

				System.out.println(r.type + "\t" + r.qualified() + "\tremarks=" + (r.remarks ? "yes" : "no")
								   + "\tread=" + read);
				if (!read.equals("ok"))
				{
					unreadable.add(role + "\t" + r.qualified());
					findings.add(role + ": listed but not readable: " + r.qualified() + ": " + read);
				}
				if (isPartition(hidden, r))
					failures.add(role + ": partition listed with hideUnprivilegedObjects: " + r.qualified());
				if (!r.remarks && GRIDFLOW.contains(r.schema))
					findings.add(role + ": no REMARKS: " + r.qualified());
			}
			System.out.println();

			System.out.println("## getColumns and getPrimaryKeys of the relations of gridflow's schemas listed with hideUnprivilegedObjects=true");
			for (Rel r : shown)
			{
				if (!GRIDFLOW.contains(r.schema))
					continue;
				System.out.println(r.qualified() + " (" + r.type + ")");
				try (ResultSet rs = md.getColumns(null, r.schema, r.name, "%"))
				{
					while (rs.next())
					{
						String name = rs.getString("COLUMN_NAME");
						String type = rs.getString("TYPE_NAME");
						int size = rs.getInt("COLUMN_SIZE");
						int digits = rs.getInt("DECIMAL_DIGITS");
						boolean digitsNull = rs.wasNull();
						String remarks = rs.getString("REMARKS");
						boolean hasRemarks = remarks != null && !remarks.isEmpty();

						System.out.println("  " + rs.getInt("ORDINAL_POSITION") + "\t" + name + "\t" + type
										   + "\tsize=" + size + "\tdigits=" + (digitsNull ? "null" : Integer.toString(digits))
										   + "\tnullable=" + rs.getString("IS_NULLABLE")
										   + "\tremarks=" + (hasRemarks ? "yes" : "no"));
						if (!hasRemarks)
							findings.add(role + ": no REMARKS: " + r.qualified() + "." + name);
						if (type.equals("numeric") && (size == 0 || size == 1000))
							findings.add(role + ": numeric without precision: " + r.qualified() + "." + name);
					}
				}
				List<String> key = new ArrayList<>();
				String keyName = null;

				try (ResultSet rs = md.getPrimaryKeys(null, r.schema, r.name))
				{
					while (rs.next())
					{
						key.add(rs.getShort("KEY_SEQ") + ":" + rs.getString("COLUMN_NAME"));
						keyName = rs.getString("PK_NAME");
					}
				}
				key.sort((a, b) -> Integer.parseInt(a.substring(0, a.indexOf(':')))
						 - Integer.parseInt(b.substring(0, b.indexOf(':'))));
				if (key.isEmpty())
				{
					System.out.println("  primary key: none");
					/* then the grain must be in the comment (the layers' say "grain: ...") */
					if (!r.remarksText.contains("grain") && !r.remarksText.contains("one row per"))
						findings.add(role + ": no primary key and no grain in REMARKS: " + r.qualified());
				}
				else
				{
					List<String> cols = new ArrayList<>();

					for (String k : key)
						cols.add(k.substring(k.indexOf(':') + 1));
					System.out.println("  primary key: " + keyName + " (" + String.join(", ", cols) + ")");
				}
			}
			System.out.println();
		}
	}
}
