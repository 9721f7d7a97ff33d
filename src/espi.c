/*-------------------------------------------------------------------------
 *
 * espi.c
 *	  Green Button (NAESB ESPI) files: an Atom feed's IntervalReadings as
 *	  the records of a CSV file, for the reader (reader.c) to tokenize like
 *	  any other file.
 *
 * A source file of layout espi is parsed as it streams in, by libxml2's
 * pull parser (the one the server links), never whole: the entries of the
 * feed are read one at a time, UsagePoints, MeterReadings and ReadingTypes
 * are remembered by their self links, and each IntervalBlock's readings
 * come out as records of the header
 *
 *	usage_point,meter_reading,reading_type,start,duration,value,unit,quality,flow_direction,xml_line,problem
 *
 * usage_point, meter_reading and reading_type are the titles of the
 * entries (their self links when they have no title); start and duration
 * the reading's timePeriod as written (UTC epoch seconds, seconds); value
 * the reading's integer value times 10^powerOfTenMultiplier, in the common
 * unit of the ReadingType's uom (Wh, VArh, W and VAr become kWh, kvarh, kW
 * and kvar by moving the decimal point, so that the value is exact: 1234
 * at -1 Wh is 1234E-4 kWh), or as written when it is not an integer;
 * quality the ReadingQuality's quality (an ESPI QualityOfReading code, as
 * written); flow_direction the ReadingType's flowDirection (ESPI
 * FlowDirectionKind, as written); xml_line the line of the
 * IntervalReading in the file; problem why the reading's resource links
 * could not be followed.  The utility's column_map maps these names as it
 * maps any file's header, so a reading whose block cannot be tied to its
 * meter reading or reading type lacks a key and is rejected like any other
 * record.
 *
 * Links are followed as ESPI writes them: an IntervalBlock's "up" link is
 * one of its MeterReading's "related" links (or the MeterReading's self
 * link and "/IntervalBlock"), a MeterReading's "related" links include its
 * ReadingType's self link, and its "up" link is its UsagePoint's self link
 * and "/MeterReading" (a feed of one UsagePoint needs no such link).  The
 * MeterReading and ReadingType of a block must come before the block in
 * the file.
 *
 * Hostile input: a document type declaration is refused (no entity is
 * defined, none loaded), nothing is fetched from the network, libxml2's
 * limits on depth and text size hold (no XML_PARSE_HUGE), texts are kept
 * to ESPI_TEXT_MAX bytes, resources and their links to ESPI_MAX_RESOURCES
 * and the readings of one block to ESPI_MAX_BLOCK_READINGS.  Elements are
 * matched by their local names; the root must be an Atom feed or entry.  A file that is not
 * well-formed XML is an error (XML cannot be read on past the fault); a
 * block that is malformed gives rejects.  libxml2's errors go to this
 * parser's own handler, and nothing here raises an ERROR from inside
 * libxml2: the file's bytes are read by a callback that reports failure
 * by its return value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <libxml/xmlreader.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/xml.h"

#include "gridflow.h"

#define ESPI_HREF_MAX 1024		/* longer links are not followed */
#define ESPI_TEXT_MAX 1024		/* bytes kept of a title or value */
#define ESPI_MAX_RESOURCES 50000	/* resources and their blocks' links */
#define ESPI_MAX_BLOCK_READINGS 100000
#define ESPI_MAX_DEPTH 64

#define ESPI_HEADER "usage_point,meter_reading,reading_type,start,duration,value,unit,quality,flow_direction,xml_line,problem\n"

typedef enum EspiKind
{
	ESPI_OTHER,
	ESPI_USAGE_POINT,
	ESPI_METER_READING,
	ESPI_READING_TYPE,
	ESPI_INTERVAL_BLOCK
} EspiKind;

/* a resource remembered by its self link */
typedef struct EspiResource
{
	char		href[ESPI_HREF_MAX];	/* hash key */
	char	   *title;
	char	   *up;				/* MeterReading: its up link */
	List	   *related;		/* MeterReading: its related links */
	int			uom;			/* ReadingType */
	int			multiplier;
	bool		uom_ok;
	bool		multiplier_ok;
	char	   *flow;			/* ReadingType: flowDirection as written (NULL: none) */
} EspiResource;

/* a meter reading by one of its blocks' links */
typedef struct EspiBlockLink
{
	char		href[ESPI_HREF_MAX];
	char		meter_reading[ESPI_HREF_MAX];
} EspiBlockLink;

typedef struct EspiReading
{
	char	   *start;
	char	   *duration;
	char	   *value;
	char	   *quality;
	int			line;
} EspiReading;

typedef struct EspiState
{
	GfReader   *r;
	MemoryContext cxt;			/* the reader's */
	xmlTextReaderPtr xml;
	bool		eof;
	int			io_errno;		/* the file could not be read */
	bool		io_failed;
	char		error[256];		/* libxml2's first error */
	int			error_line;
	StringInfoData out;			/* CSV bytes not handed out yet */
	int			out_pos;
	/* the resources seen so far */
	HTAB	   *usage_points;
	HTAB	   *meter_readings;
	HTAB	   *reading_types;
	HTAB	   *block_links;
	long		resources;
	EspiResource *only_usage_point;	/* the first; NULL after a second */
	int			usage_point_count;
	/* the entry being read */
	int			entry_depth;	/* -1: outside an entry */
	char	   *names[ESPI_MAX_DEPTH];
	EspiKind	kind;
	StringInfoData title;
	StringInfoData uom;
	StringInfoData multiplier;
	StringInfoData flow;
	char	   *self;
	char	   *up;
	List	   *related;
	StringInfo	text;			/* where the current element's text goes */
	EspiReading *readings;
	int			nreadings;
	int			maxreadings;
	EspiReading *reading;		/* the IntervalReading being read */
	StringInfoData rstart;
	StringInfoData rduration;
	StringInfoData rvalue;
	StringInfoData rquality;
	bool		have_quality;
	MemoryContext entry_cxt;	/* the entry's allocations */
	MemoryContextCallback cleanup;
} EspiState;

/* libxml2's errors: the first one is kept, for the ERROR raised after */
static void
espi_error(void *arg, xmlErrorPtr err)
{
	EspiState  *s = (EspiState *) arg;

	if (err == NULL || err->level < XML_ERR_ERROR || s->error[0] != '\0')
		return;
	strlcpy(s->error, err->message ? err->message : "unknown error", sizeof(s->error));
	/* no trailing newline */
	for (int n = (int) strlen(s->error); n > 0 && (s->error[n - 1] == '\n' || s->error[n - 1] == '\r'); n--)
		s->error[n - 1] = '\0';
	s->error_line = err->line;
}

/* libxml2's input: the file's bytes, counted and hashed by the reader */
static int
espi_input(void *arg, char *buf, int len)
{
	EspiState  *s = (EspiState *) arg;
	long		n;

	if (len <= 0)
		return 0;
	n = gf_reader_read_raw(s->r, buf, (size_t) len);
	if (n < 0)
	{
		s->io_failed = true;
		s->io_errno = errno;
		return -1;
	}
	return (int) n;
}

/* the parser goes with the reader's memory, on an error as at the end */
static void
espi_cleanup(void *arg)
{
	EspiState  *s = (EspiState *) arg;

	if (s->xml != NULL)
		xmlFreeTextReader(s->xml);
	s->xml = NULL;
}

/* Append text to buf, up to ESPI_TEXT_MAX bytes. */
static void
append_text(StringInfo buf, const char *text)
{
	size_t		len = strlen(text);

	if (buf->len >= ESPI_TEXT_MAX)
		return;
	if (len > (size_t) (ESPI_TEXT_MAX - buf->len))
		len = ESPI_TEXT_MAX - buf->len;
	appendBinaryStringInfo(buf, text, (int) len);
}

/* A copy of s without surrounding white space. */
static char *
trimmed(const char *s)
{
	const char *end;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	return pnstrdup(s, end - s);
}

/* An integer of at most maxdigits digits, with an optional sign. */
static bool
parse_integer(const char *s, int maxdigits, long long *out)
{
	bool		neg = false;
	long long	v = 0;
	int			n = 0;

	if (*s == '-' || *s == '+')
		neg = (*s++ == '-');
	for (; *s >= '0' && *s <= '9'; s++)
	{
		if (++n > maxdigits)
			return false;
		v = v * 10 + (*s - '0');
	}
	if (n == 0 || *s != '\0')
		return false;
	*out = neg ? -v : v;
	return true;
}

static HTAB *
make_table(const char *name, Size entrysize)
{
	HASHCTL		ctl;

	ctl.keysize = ESPI_HREF_MAX;
	ctl.entrysize = entrysize;
	ctl.hcxt = CurrentMemoryContext;
	return hash_create(name, 256, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/* The resource of a link, or NULL (links too long to be keys are not followed). */
static void *
find(HTAB *t, const char *href)
{
	if (href == NULL || strlen(href) >= ESPI_HREF_MAX)
		return NULL;
	return hash_search(t, href, HASH_FIND, NULL);
}

/* Remember a resource by its self link (a later entry of the same link wins). */
static EspiResource *
remember(EspiState *s, HTAB *t, const char *href)
{
	EspiResource *res;
	bool		found;

	if (href == NULL || strlen(href) >= ESPI_HREF_MAX)
		return NULL;
	if (++s->resources > ESPI_MAX_RESOURCES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Green Button file \"%s\" has more than %d resources and links", s->r->path, ESPI_MAX_RESOURCES),
				 errdetail("UsagePoint, MeterReading and ReadingType entries and their links are kept in memory while the file is read.")));
	res = hash_search(t, href, HASH_ENTER, &found);
	if (found)
	{
		if (res->title)
			pfree(res->title);
		if (res->up)
			pfree(res->up);
		if (res->flow)
			pfree(res->flow);
		list_free_deep(res->related);
	}
	memset(((char *) res) + ESPI_HREF_MAX, 0, sizeof(EspiResource) - ESPI_HREF_MAX);
	return res;
}

/*
 * One CSV field, then a comma or the end of the record: quoted, or, when
 * there is no value, empty and unquoted (NULL to the mapping).
 */
static void
put_field(StringInfo out, const char *v, bool last)
{
	if (v != NULL && v[0] != '\0')
	{
		appendStringInfoChar(out, '"');
		for (const char *p = v; *p; p++)
		{
			if (*p == '"')
				appendStringInfoChar(out, '"');
			appendStringInfoChar(out, *p);
		}
		appendStringInfoChar(out, '"');
	}
	appendStringInfoChar(out, last ? '\n' : ',');
}

/* The common unit of an ESPI UnitSymbolKind, or NULL. */
static const char *
common_unit(int uom)
{
	switch (uom)
	{
		case 72:
			return "kWh";
		case 73:
			return "kvarh";
		case 38:
			return "kW";
		case 63:
			return "kvar";
	}
	return NULL;
}

/* The records of the block just read. */
static void
emit_block(EspiState *s)
{
	EspiBlockLink *bl = NULL;
	EspiResource *mr = NULL;
	EspiResource *rt = NULL;
	EspiResource *up = NULL;
	const char *problem = NULL;
	MemoryContext old = MemoryContextSwitchTo(s->entry_cxt);

	/* the block's meter reading, its reading type and its usage point */
	if (s->up == NULL)
		problem = "the IntervalBlock has no up link";
	else
	{
		bl = find(s->block_links, s->up);
		if (bl != NULL)
			mr = find(s->meter_readings, bl->meter_reading);
		else
		{
			size_t		n = strlen(s->up);
			const char *suffix = "/IntervalBlock";

			if (n > strlen(suffix) && strcmp(s->up + n - strlen(suffix), suffix) == 0)
				mr = find(s->meter_readings, pnstrdup(s->up, n - strlen(suffix)));
		}
		if (mr == NULL)
			problem = psprintf("no MeterReading before the block links to it (up link %s)", s->up);
	}
	if (mr != NULL)
	{
		ListCell   *lc;

		foreach(lc, mr->related)
		{
			rt = find(s->reading_types, (char *) lfirst(lc));
			if (rt != NULL)
				break;
		}
		if (rt == NULL)
			problem = "no ReadingType before the block that its MeterReading links to";
		if (mr->up != NULL)
		{
			size_t		n = strlen(mr->up);
			const char *suffix = "/MeterReading";

			if (n > strlen(suffix) && strcmp(mr->up + n - strlen(suffix), suffix) == 0)
				up = find(s->usage_points, pnstrdup(mr->up, n - strlen(suffix)));
		}
		if (up == NULL && s->usage_point_count == 1)
			up = s->only_usage_point;
		if (up == NULL && problem == NULL)
			problem = "no UsagePoint that the block's MeterReading links to";
	}
	if (rt != NULL && (!rt->uom_ok || !rt->multiplier_ok))
	{
		/* its readings' values cannot be known: no reading type, rejected */
		problem = "the ReadingType's uom or powerOfTenMultiplier is not an integer of ESPI's range";
		rt = NULL;
	}

	for (int i = 0; i < s->nreadings; i++)
	{
		EspiReading *rd = &s->readings[i];
		char	   *value = rd->value;
		const char *unit = NULL;
		long long	v;

		CHECK_FOR_INTERRUPTS();
		if (rt == NULL)
			value = NULL;		/* no value without its unit and scale */
		else
		{
			const char *cu = common_unit(rt->uom);

			/* Wh, VArh, W, VAr: the common unit is a thousand of them */
			unit = cu ? cu : rt->uom == 0 ? NULL : psprintf("uom:%d", rt->uom);
			if (rd->value != NULL && parse_integer(rd->value, 18, &v))
				value = psprintf("%lldE%d", v, cu ? rt->multiplier - 3 : rt->multiplier);
		}
		put_field(&s->out, up ? up->title : NULL, false);
		put_field(&s->out, mr ? mr->title : NULL, false);
		put_field(&s->out, rt ? rt->title : NULL, false);
		put_field(&s->out, rd->start, false);
		put_field(&s->out, rd->duration, false);
		put_field(&s->out, value, false);
		put_field(&s->out, unit, false);
		put_field(&s->out, rd->quality, false);
		put_field(&s->out, rt ? rt->flow : NULL, false);
		put_field(&s->out, psprintf("%d", rd->line), false);
		put_field(&s->out, problem, true);
	}
	MemoryContextSwitchTo(old);
}

/* The entry just read: remember its resource, or give its readings. */
static void
end_entry(EspiState *s)
{
	MemoryContext old = MemoryContextSwitchTo(s->entry_cxt);
	char	   *title = s->title.len > 0 ? trimmed(s->title.data) : NULL;
	EspiResource *res;
	long long	v = 0;

	if (title == NULL || title[0] == '\0')
		title = s->self;
	/* what is remembered lives as long as the reader */
	if (title != NULL && s->kind != ESPI_INTERVAL_BLOCK && s->kind != ESPI_OTHER)
		title = MemoryContextStrdup(s->cxt, title);
	switch (s->kind)
	{
		case ESPI_USAGE_POINT:
			res = remember(s, s->usage_points, s->self);
			if (res != NULL)
			{
				res->title = title;
				if (++s->usage_point_count == 1)
					s->only_usage_point = res;
			}
			break;
		case ESPI_METER_READING:
			res = remember(s, s->meter_readings, s->self);
			if (res != NULL)
			{
				ListCell   *lc;

				res->title = title;
				res->up = s->up ? MemoryContextStrdup(s->cxt, s->up) : NULL;
				foreach(lc, s->related)
				{
					EspiBlockLink *bl;
					bool		found;

					MemoryContext rel = MemoryContextSwitchTo(s->cxt);

					res->related = lappend(res->related, pstrdup((char *) lfirst(lc)));
					MemoryContextSwitchTo(rel);
					if (strlen((char *) lfirst(lc)) >= ESPI_HREF_MAX)
						continue;
					if (++s->resources > ESPI_MAX_RESOURCES)
						ereport(ERROR,
								(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
								 errmsg("Green Button file \"%s\" has more than %d resources and links",
										s->r->path, ESPI_MAX_RESOURCES),
								 errdetail("UsagePoint, MeterReading and ReadingType entries and their links are kept in memory while the file is read.")));
					bl = hash_search(s->block_links, lfirst(lc), HASH_ENTER, &found);
					strlcpy(bl->meter_reading, s->self, ESPI_HREF_MAX);
				}
			}
			break;
		case ESPI_READING_TYPE:
			res = remember(s, s->reading_types, s->self);
			if (res != NULL)
			{
				char	   *uom = trimmed(s->uom.data);
				char	   *mult = trimmed(s->multiplier.data);

				res->title = title;
				/* no uom: none (0); no multiplier: 0 */
				v = 0;
				res->uom_ok = uom[0] == '\0' || (parse_integer(uom, 5, &v) && v >= 0 && v <= 65535);
				res->uom = res->uom_ok ? (int) v : 0;
				v = 0;
				res->multiplier_ok = mult[0] == '\0' || (parse_integer(mult, 3, &v) && v >= -12 && v <= 12);
				res->multiplier = res->multiplier_ok ? (int) v : 0;
				/* as written: the utility's gridflow.channel rows say what it means */
				if (s->flow.len > 0)
				{
					char	   *flow = trimmed(s->flow.data);

					if (flow[0] != '\0')
						res->flow = MemoryContextStrdup(s->cxt, flow);
				}
			}
			break;
		case ESPI_INTERVAL_BLOCK:
			emit_block(s);
			break;
		case ESPI_OTHER:
			break;
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(s->entry_cxt);
	s->entry_depth = -1;
	s->kind = ESPI_OTHER;
	s->self = s->up = NULL;
	s->related = NIL;
	s->readings = NULL;
	s->nreadings = s->maxreadings = 0;
	s->reading = NULL;
	s->text = NULL;
}

/* An entry starts: its state anew, in its own memory. */
static void
begin_entry(EspiState *s, int depth)
{
	MemoryContext old = MemoryContextSwitchTo(s->entry_cxt);

	s->entry_depth = depth;
	s->kind = ESPI_OTHER;
	initStringInfo(&s->title);
	initStringInfo(&s->uom);
	initStringInfo(&s->multiplier);
	initStringInfo(&s->flow);
	initStringInfo(&s->rstart);
	initStringInfo(&s->rduration);
	initStringInfo(&s->rvalue);
	initStringInfo(&s->rquality);
	MemoryContextSwitchTo(old);
}

/* The name of the element at depth d (relative names of the entry's path). */
static bool
name_is(EspiState *s, int d, const char *name)
{
	return d >= 0 && d < ESPI_MAX_DEPTH && s->names[d] != NULL && strcmp(s->names[d], name) == 0;
}

/* An element starts (at depth d, name local). */
static void
start_element(EspiState *s, int d, const char *local, bool empty)
{
	int			e = s->entry_depth;

	s->text = NULL;
	if (e < 0)
	{
		if (strcmp(local, "entry") == 0 && !empty)
			begin_entry(s, d);
		return;
	}
	if (d == e + 1 && strcmp(local, "title") == 0)
		s->text = &s->title;
	else if (d == e + 1 && strcmp(local, "link") == 0)
	{
		xmlChar    *rel = xmlTextReaderGetAttribute(s->xml, (const xmlChar *) "rel");
		xmlChar    *href = xmlTextReaderGetAttribute(s->xml, (const xmlChar *) "href");

		if (rel != NULL && href != NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(s->entry_cxt);
			char	   *h = trimmed((const char *) href);

			if (strcmp((const char *) rel, "self") == 0)
				s->self = h;
			else if (strcmp((const char *) rel, "up") == 0)
				s->up = h;
			else if (strcmp((const char *) rel, "related") == 0 && list_length(s->related) < 1000)
				s->related = lappend(s->related, h);
			MemoryContextSwitchTo(old);
		}
		if (rel != NULL)
			xmlFree(rel);
		if (href != NULL)
			xmlFree(href);
	}
	else if (d == e + 2 && name_is(s, e + 1, "content"))
	{
		if (strcmp(local, "UsagePoint") == 0)
			s->kind = ESPI_USAGE_POINT;
		else if (strcmp(local, "MeterReading") == 0)
			s->kind = ESPI_METER_READING;
		else if (strcmp(local, "ReadingType") == 0)
			s->kind = ESPI_READING_TYPE;
		else if (strcmp(local, "IntervalBlock") == 0)
			s->kind = ESPI_INTERVAL_BLOCK;
	}
	else if (s->kind == ESPI_READING_TYPE && d == e + 3 && strcmp(local, "uom") == 0)
		s->text = &s->uom;
	else if (s->kind == ESPI_READING_TYPE && d == e + 3 && strcmp(local, "powerOfTenMultiplier") == 0)
		s->text = &s->multiplier;
	else if (s->kind == ESPI_READING_TYPE && d == e + 3 && strcmp(local, "flowDirection") == 0)
		s->text = &s->flow;
	else if (s->kind == ESPI_INTERVAL_BLOCK && d == e + 3 && strcmp(local, "IntervalReading") == 0)
	{
		resetStringInfo(&s->rstart);
		resetStringInfo(&s->rduration);
		resetStringInfo(&s->rvalue);
		resetStringInfo(&s->rquality);
		s->have_quality = false;
		if (s->nreadings >= ESPI_MAX_BLOCK_READINGS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("an IntervalBlock of Green Button file \"%s\" has more than %d IntervalReadings",
							s->r->path, ESPI_MAX_BLOCK_READINGS),
					 errdetail("The readings of one block are kept in memory until the block ends (line %d).",
							   xmlTextReaderGetParserLineNumber(s->xml))));
		if (s->nreadings == s->maxreadings)
		{
			MemoryContext old = MemoryContextSwitchTo(s->entry_cxt);

			s->maxreadings = s->maxreadings ? s->maxreadings * 2 : 128;
			s->readings = s->readings ? repalloc(s->readings, sizeof(EspiReading) * s->maxreadings)
				: palloc(sizeof(EspiReading) * s->maxreadings);
			MemoryContextSwitchTo(old);
		}
		s->reading = &s->readings[s->nreadings++];
		memset(s->reading, 0, sizeof(EspiReading));
		s->reading->line = xmlTextReaderGetParserLineNumber(s->xml);
		if (empty)
			s->reading = NULL;
	}
	else if (s->reading != NULL && name_is(s, e + 3, "IntervalReading"))
	{
		if (d == e + 5 && name_is(s, e + 4, "timePeriod") && strcmp(local, "start") == 0)
			s->text = &s->rstart;
		else if (d == e + 5 && name_is(s, e + 4, "timePeriod") && strcmp(local, "duration") == 0)
			s->text = &s->rduration;
		else if (d == e + 4 && strcmp(local, "value") == 0)
			s->text = &s->rvalue;
		else if (d == e + 5 && name_is(s, e + 4, "ReadingQuality") && strcmp(local, "quality") == 0 &&
				 !s->have_quality)
		{
			s->text = &s->rquality;
			s->have_quality = true;
		}
	}
	if (empty)
		s->text = NULL;
}

/* An element ends (at depth d). */
static void
end_element(EspiState *s, int d)
{
	int			e = s->entry_depth;

	s->text = NULL;
	if (e < 0)
		return;
	if (d == e)
	{
		end_entry(s);
		return;
	}
	if (s->reading != NULL && d == e + 3 && name_is(s, d, "IntervalReading"))
	{
		MemoryContext old = MemoryContextSwitchTo(s->entry_cxt);

		s->reading->start = trimmed(s->rstart.data);
		s->reading->duration = trimmed(s->rduration.data);
		s->reading->value = s->rvalue.len > 0 ? trimmed(s->rvalue.data) : NULL;
		s->reading->quality = trimmed(s->rquality.data);
		if (s->reading->value != NULL && s->reading->value[0] == '\0')
			s->reading->value = NULL;
		MemoryContextSwitchTo(old);
		s->reading = NULL;
	}
}

/* Raise the ERROR of a parse that failed. */
static void
espi_fail(EspiState *s)
{
	if (s->io_failed)
	{
		errno = s->io_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", s->r->path)));
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_XML_DOCUMENT),
			 errmsg("Green Button file \"%s\" is not well-formed XML", s->r->path),
			 errdetail("Line %d: %s.", s->error_line, s->error[0] ? s->error : "the parser stopped"),
			 errhint("An XML file cannot be read past its first fault: correct the file and load it again.")));
}

/* One node of the document; false at its end. */
static bool
espi_step(EspiState *s)
{
	int			ret = xmlTextReaderRead(s->xml);
	int			type;
	int			d;

	if (ret < 0 && !s->io_failed && s->r->bytes_read == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_DOCUMENT),
				 errmsg("Green Button file \"%s\" is empty", s->r->path)));
	if (ret < 0 || s->io_failed)
		espi_fail(s);
	if (ret == 0)
		return false;
	type = xmlTextReaderNodeType(s->xml);
	d = xmlTextReaderDepth(s->xml);
	switch (type)
	{
		case XML_READER_TYPE_DOCUMENT_TYPE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_XML_DOCUMENT),
					 errmsg("Green Button file \"%s\" has a document type declaration", s->r->path),
					 errdetail("Line %d.", xmlTextReaderGetParserLineNumber(s->xml)),
					 errhint("Green Button files have none; gridflow reads no DTD and defines no entity.")));
			break;
		case XML_READER_TYPE_ELEMENT:
			{
				const char *local = (const char *) xmlTextReaderConstLocalName(s->xml);
				bool		empty = xmlTextReaderIsEmptyElement(s->xml) == 1;

				if (local == NULL)
					break;
				if (d == 0 && strcmp(local, "feed") != 0 && strcmp(local, "entry") != 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_XML_DOCUMENT),
							 errmsg("Green Button file \"%s\" is not an Atom feed", s->r->path),
							 errdetail("Its root element is \"%s\", not feed or entry.", local)));
				if (d >= 0 && d < ESPI_MAX_DEPTH)
				{
					MemoryContext old = MemoryContextSwitchTo(s->cxt);

					if (s->names[d] != NULL)
						pfree(s->names[d]);
					s->names[d] = empty ? NULL : pstrdup(local);
					MemoryContextSwitchTo(old);
				}
				start_element(s, d, local, empty);
				break;
			}
		case XML_READER_TYPE_END_ELEMENT:
			end_element(s, d);
			break;
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
		case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
			if (s->text != NULL)
			{
				const char *v = (const char *) xmlTextReaderConstValue(s->xml);

				if (v != NULL)
					append_text(s->text, v);
			}
			break;
		default:
			break;
	}
	return true;
}

/*
 * The reader's source: the CSV bytes of the readings, the header first.
 * Returns 0 at the end of the document.
 */
static long
espi_read(void *ctx, char *buf, size_t size)
{
	EspiState  *s = (EspiState *) ctx;
	size_t		n;

	while (s->out.len - s->out_pos == 0 && !s->eof)
	{
		resetStringInfo(&s->out);
		s->out_pos = 0;
		for (int steps = 0; s->out.len == 0 && steps < 10000; steps++)
		{
			if (!espi_step(s))
			{
				char		rest[8192];
				long		m;

				/* what follows the document (nothing but white space) is read too */
				while ((m = gf_reader_read_raw(s->r, rest, sizeof(rest))) > 0)
					CHECK_FOR_INTERRUPTS();
				if (m < 0)
					ereport(ERROR,
							(errcode_for_file_access(),
							 errmsg("could not read file \"%s\": %m", s->r->path)));
				s->eof = true;
				break;
			}
		}
		CHECK_FOR_INTERRUPTS();
	}
	n = Min(size, (size_t) (s->out.len - s->out_pos));
	memcpy(buf, s->out.data + s->out_pos, n);
	s->out_pos += n;
	return (long) n;
}

/*
 * Read the file of reader r as a Green Button file: its records are the
 * IntervalReadings (see the header of this file).  Called right after the
 * reader is opened, before its header is read.
 */
void
gf_espi_attach(GfReader *r)
{
	MemoryContext old = MemoryContextSwitchTo(r->cxt);
	EspiState  *s = palloc0(sizeof(EspiState));

	s->r = r;
	s->cxt = r->cxt;
	s->entry_depth = -1;
	s->entry_cxt = AllocSetContextCreate(r->cxt, "gridflow espi entry", ALLOCSET_DEFAULT_SIZES);
	s->usage_points = make_table("gridflow espi usage points", sizeof(EspiResource));
	s->meter_readings = make_table("gridflow espi meter readings", sizeof(EspiResource));
	s->reading_types = make_table("gridflow espi reading types", sizeof(EspiResource));
	s->block_links = make_table("gridflow espi block links", sizeof(EspiBlockLink));
	initStringInfo(&s->out);
	appendStringInfoString(&s->out, ESPI_HEADER);

	pg_xml_init_library();
	s->cleanup.func = espi_cleanup;
	s->cleanup.arg = s;
	MemoryContextRegisterResetCallback(r->cxt, &s->cleanup);
	/* no network, no entities substituted, no DTD loaded, libxml2's limits */
	s->xml = xmlReaderForIO(espi_input, NULL, s, r->path, NULL,
							XML_PARSE_NONET | XML_PARSE_NOCDATA);
	if (s->xml == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not start the XML parser for file \"%s\"", r->path)));
	xmlTextReaderSetStructuredErrorHandler(s->xml, espi_error, s);
	r->source = espi_read;
	r->source_ctx = s;
	MemoryContextSwitchTo(old);
}
