/* core/annual_pdf: the annual report as a print-ready A4 PDF, drawn with cairo and shaped with
 * pango (HarfBuzz underneath), so Vietnamese stacked diacritics come out right without a browser
 * on the server. From the model of core/annual.c; no database, no HTTP here. */
#include "core/annual.h"
#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

/* A4 in points; margins as Vietnamese administrative documents use (left 25 mm, others 15–20) */
#define PAGE_W 595.276
#define PAGE_H 841.890
#define M_LEFT 62.0
#define M_RIGHT 40.0
#define M_TOP 48.0
#define M_BOTTOM 54.0
#define CONTENT_W (PAGE_W - M_LEFT - M_RIGHT)
#define PAD 3.0
/* a serif face like the Times New Roman of official papers; fallbacks all carry Vietnamese */
#define FACE "Noto Serif, DejaVu Serif, DejaVu Sans"

typedef struct pdf {
    cairo_t *cr;
    PangoLayout *lay;
    double y;
    int page;
    double font_size; /* the layout's font, so an unchanged one is not set again (0: none) */
    int font_bold, font_italic;
} pdf;

static void set_font(pdf *p, double size, int bold, int italic)
{
    /* parsing a description and re-itemising for every cell was most of a large report's time */
    if (p->font_size == size && p->font_bold == bold && p->font_italic == italic) return;
    p->font_size = size;
    p->font_bold = bold;
    p->font_italic = italic;
    PangoFontDescription *fd = pango_font_description_from_string(FACE);
    pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
    pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_style(fd, italic ? PANGO_STYLE_ITALIC : PANGO_STYLE_NORMAL);
    pango_layout_set_font_description(p->lay, fd);
    pango_font_description_free(fd);
}

/* lay out text in width w; returns its height */
static double prepare(pdf *p, const char *text, double w, PangoAlignment al, int underline)
{
    pango_layout_set_width(p->lay, (int)(w * PANGO_SCALE));
    pango_layout_set_wrap(p->lay, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(p->lay, al);
    PangoAttrList *attrs = pango_attr_list_new();
    if (underline) pango_attr_list_insert(attrs, pango_attr_underline_new(PANGO_UNDERLINE_SINGLE));
    pango_layout_set_attributes(p->lay, attrs);
    pango_attr_list_unref(attrs);
    pango_layout_set_text(p->lay, text, -1);
    int wi, hi;
    pango_layout_get_size(p->lay, &wi, &hi);
    return (double)hi / PANGO_SCALE;
}

static void draw(pdf *p, double x, double y)
{
    cairo_move_to(p->cr, x, y);
    pango_cairo_show_layout(p->cr, p->lay);
}

static void footer(pdf *p)
{
    char b[48];
    snprintf(b, sizeof b, "Trang %d", p->page);
    set_font(p, 8, 0, 0);
    prepare(p, b, CONTENT_W, PANGO_ALIGN_RIGHT, 0);
    draw(p, M_LEFT, PAGE_H - M_BOTTOM + 18);
    prepare(p, "Chợ Số - Tỉnh đoàn Thanh Hóa", CONTENT_W, PANGO_ALIGN_LEFT, 0);
    draw(p, M_LEFT, PAGE_H - M_BOTTOM + 18);
}

static void new_page(pdf *p)
{
    footer(p);
    cairo_show_page(p->cr);
    p->page++;
    p->y = M_TOP;
}

/* a line of text across the content width, breaking the page first when it would not fit */
static void line(pdf *p, const char *text, double size, int bold, int italic, PangoAlignment al,
                 double after)
{
    set_font(p, size, bold, italic);
    double h = prepare(p, text, CONTENT_W, al, 0);
    if (p->y + h > PAGE_H - M_BOTTOM) new_page(p);
    draw(p, M_LEFT, p->y);
    p->y += h + after;
}

/* two centred blocks side by side (left w_left of the width) */
static void pair(pdf *p, const char *left, int lb, int lu, const char *right, int rb, int ri,
                 int ru, double size, double w_left)
{
    double wl = CONTENT_W * w_left, wr = CONTENT_W - wl;
    double h1 = 0, h2 = 0;
    if (left) {
        set_font(p, size, lb, 0);
        h1 = prepare(p, left, wl, PANGO_ALIGN_CENTER, lu);
        draw(p, M_LEFT, p->y);
    }
    if (right) {
        set_font(p, size, rb, ri);
        h2 = prepare(p, right, wr, PANGO_ALIGN_CENTER, ru);
        draw(p, M_LEFT + wl, p->y);
    }
    p->y += (h1 > h2 ? h1 : h2) + 2;
}

static double col_x(const cs_rtable *t, const double *w, unsigned c)
{
    double x = M_LEFT;
    for (unsigned k = 0; k < c; k++)
        x += w[k];
    (void)t;
    return x;
}

static int numeric(const cs_rcell *c)
{
    return c->kind == CS_RK_INT || c->kind == CS_RK_PCT;
}

/* one row: cells laid out, height measured, page broken if needed (repeating the header),
 * background for subtotal/total rows, grid lines; head != 0 draws the header row */
static void table_row(pdf *p, const cs_rtable *t, const double *w, size_t i, int head, double fs);

static void header_row(pdf *p, const cs_rtable *t, const double *w, double fs)
{
    table_row(p, t, w, 0, 1, fs);
}

static double row_height(pdf *p, const cs_rtable *t, const double *w, size_t i, int head, double fs)
{
    double h = 0;
    char b[64];
    for (unsigned c = 0; c < t->ncols; c++) {
        const char *s = head ? t->head[c] : cs_rcell_text(&t->cells[i * t->ncols + c], b, sizeof b);
        set_font(p, fs, head || (!head && t->style[i] != CS_RS_NORMAL), 0);
        double hc = prepare(p, s, w[c] - 2 * PAD, PANGO_ALIGN_LEFT, 0);
        if (hc > h) h = hc;
    }
    return h + 2 * PAD;
}

static void table_row(pdf *p, const cs_rtable *t, const double *w, size_t i, int head, double fs)
{
    double h = row_height(p, t, w, i, head, fs);
    if (p->y + h > PAGE_H - M_BOTTOM) {
        new_page(p);
        if (!head) header_row(p, t, w, fs);
    }
    cs_rstyle st = head ? CS_RS_NORMAL : t->style[i];
    if (head || st != CS_RS_NORMAL) {
        double g = head ? 0.85 : st == CS_RS_TOTAL ? 0.80 : 0.92;
        cairo_set_source_rgb(p->cr, g, g, head ? 0.93 : g);
        cairo_rectangle(p->cr, M_LEFT, p->y, CONTENT_W, h);
        cairo_fill(p->cr);
    }
    cairo_set_source_rgb(p->cr, 0, 0, 0);
    char b[64];
    for (unsigned c = 0; c < t->ncols; c++) {
        const cs_rcell *cell = head ? NULL : &t->cells[i * t->ncols + c];
        const char *s = head ? t->head[c] : cs_rcell_text(cell, b, sizeof b);
        set_font(p, fs, head || st != CS_RS_NORMAL, 0);
        PangoAlignment al = head                       ? PANGO_ALIGN_CENTER
                            : numeric(cell)            ? PANGO_ALIGN_RIGHT
                            : cell->kind == CS_RK_DATE ? PANGO_ALIGN_CENTER
                                                       : PANGO_ALIGN_LEFT;
        prepare(p, s, w[c] - 2 * PAD, al, 0);
        draw(p, col_x(t, w, c) + PAD, p->y + PAD);
    }
    cairo_set_line_width(p->cr, 0.5);
    for (unsigned c = 0; c <= t->ncols; c++) {
        double x = c == t->ncols ? M_LEFT + CONTENT_W : col_x(t, w, c);
        cairo_move_to(p->cr, x, p->y);
        cairo_line_to(p->cr, x, p->y + h);
    }
    cairo_move_to(p->cr, M_LEFT, p->y);
    cairo_line_to(p->cr, M_LEFT + CONTENT_W, p->y);
    cairo_move_to(p->cr, M_LEFT, p->y + h);
    cairo_line_to(p->cr, M_LEFT + CONTENT_W, p->y + h);
    cairo_stroke(p->cr);
    p->y += h;
}

/* natural (unwrapped) width of text in the current font */
static double natural(pdf *p, const char *text)
{
    pango_layout_set_width(p->lay, -1);
    pango_layout_set_attributes(p->lay, NULL);
    pango_layout_set_text(p->lay, text, -1);
    int wi, hi;
    pango_layout_get_size(p->lay, &wi, &hi);
    return (double)wi / PANGO_SCALE;
}

/* Column widths from the content: a column whose longest cell fits in 80 pt (numbers, dates,
 * codes, short names) gets exactly that, so it never wraps; the wide ones (names, addresses)
 * share what is left in proportion to their natural widths and wrap. A header wraps at its
 * spaces but never inside a word. */
static void widths(pdf *p, const cs_rtable *t, double fs, double *w)
{
    double nat[CS_RCOLS_MAX], fixed = 0, flex = 0;
    char b[64];
    for (unsigned c = 0; c < t->ncols; c++) {
        set_font(p, fs, 1, 0);
        double hw = 0;
        char word[128];
        const char *h = t->head[c];
        while (*h) {
            size_t n = strcspn(h, " ");
            snprintf(word, sizeof word, "%.*s", (int)(n < sizeof word - 1 ? n : sizeof word - 1),
                     h);
            double x = natural(p, word);
            if (x > hw) hw = x;
            h += n;
            h += strspn(h, " ");
        }
        nat[c] = hw;
        for (size_t i = 0; i < t->nrows; i++) {
            const cs_rcell *cell = &t->cells[i * t->ncols + c];
            if (cell->kind == CS_RK_EMPTY) continue;
            set_font(p, fs, t->style[i] != CS_RS_NORMAL, 0);
            double x = natural(p, cs_rcell_text(cell, b, sizeof b));
            if (x > nat[c]) nat[c] = x;
        }
        nat[c] += 2 * PAD + 1;
    }
    for (unsigned c = 0; c < t->ncols; c++)
        if (nat[c] <= 80)
            fixed += nat[c];
        else
            flex += nat[c];
    double room = CONTENT_W - fixed;
    if (flex > 0 && room > 0) {
        /* the wide columns share the room (wrapping when they must) */
        for (unsigned c = 0; c < t->ncols; c++)
            w[c] = nat[c] <= 80 ? nat[c] : room * nat[c] / flex;
    } else {
        /* everything short: spread the spare width in proportion */
        double sum = fixed + flex;
        for (unsigned c = 0; c < t->ncols; c++)
            w[c] = CONTENT_W * nat[c] / sum;
    }
}

static void table(pdf *p, const cs_rtable *t)
{
    double w[CS_RCOLS_MAX];
    double fs = t->ncols > 7 ? 7.5 : 8.5;
    widths(p, t, fs, w);
    /* keep the heading with the header row and a first line */
    if (p->y + 90 > PAGE_H - M_BOTTOM) new_page(p);
    line(p, t->title, 11, 1, 0, PANGO_ALIGN_LEFT, 2);
    if (t->note) line(p, t->note, 9, 0, 1, PANGO_ALIGN_LEFT, 4);
    header_row(p, t, w, fs);
    for (size_t i = 0; i < t->nrows; i++)
        table_row(p, t, w, i, 0, fs);
    if (!t->nrows) line(p, "(không có)", 9, 0, 1, PANGO_ALIGN_LEFT, 0);
    p->y += 14;
}

int cs_annual_pdf(const cs_annual *a, const char *path, cs_error *err)
{
    cairo_surface_t *s = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return cs_error_set(err, CS_E_INTERNAL, "cairo: cannot create %s", path);
    }
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, a->title);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_AUTHOR, "Tỉnh đoàn Thanh Hóa");
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "Chợ Số");
    pdf p = {cairo_create(s), NULL, M_TOP, 1, 0, 0, 0};
    /* A font map of our own, released below: pango's default one is per thread and its caches
     * would outlive every request thread that ever wrote a report (LeakSanitizer saw them). */
    PangoFontMap *fm = pango_cairo_font_map_new();
    PangoContext *ctx = pango_font_map_create_context(fm);
    pango_cairo_update_context(p.cr, ctx);
    p.lay = pango_layout_new(ctx);

    /* the administrative header: issuing body left, motto right; number and date to fill in */
    pair(&p, "BCH ĐOÀN TNCS HỒ CHÍ MINH", 0, 0, "ĐOÀN TNCS HỒ CHÍ MINH", 1, 0, 1, 10.5, 0.45);
    pair(&p, a->organisation, 1, 1, NULL, 0, 0, 0, 10.5, 0.45);
    pair(&p, "Số: ......-BC/TĐTN", 0, 0, "Thanh Hóa, ngày ..... tháng ..... năm ........", 0, 1, 0,
         10.5, 0.45);
    p.y += 16;
    line(&p, a->title, 13, 1, 0, PANGO_ALIGN_CENTER, 4);
    line(&p, a->subtitle, 10, 0, 1, PANGO_ALIGN_CENTER, 16);
    for (size_t k = 0; k < a->ntables; k++)
        table(&p, &a->tables[k]);

    /* the signature block, kept together on one page */
    if (p.y + 110 > PAGE_H - M_BOTTOM) new_page(&p);
    p.y += 6;
    pair(&p, "NGƯỜI LẬP BIỂU", 1, 0, "TM. BAN THƯỜNG VỤ", 1, 0, 0, 10.5, 0.5);
    pair(&p, "(Ký, ghi rõ họ tên)", 0, 0, "(Ký tên, đóng dấu)", 0, 1, 0, 9.5, 0.5);
    footer(&p);
    cairo_show_page(p.cr);

    g_object_unref(p.lay);
    g_object_unref(ctx);
    g_object_unref(fm);
    cairo_destroy(p.cr);
    cairo_surface_finish(s);
    cairo_status_t st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        remove(path);
        return cs_error_set(err, CS_E_INTERNAL, "cairo: %s", cairo_status_to_string(st));
    }
    return 0;
}
