/**
 * Print CSS. Fonts are the locally installed Liberation Sans / DejaVu Sans (both carry every Polish
 * glyph); nothing is fetched. Page size and margins live here; page numbers are added by the PDF
 * layer (src/local/pdf), which knows the language of the footer.
 */
const BASE_CSS = `
*{box-sizing:border-box}
html{font-family:"Liberation Sans","DejaVu Sans",sans-serif;font-size:7.5pt;line-height:1.25;color:#343A40;
-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0}
h2{font-size:9.5pt;margin:4pt 0 3pt;break-after:avoid}
h3{font-size:8pt;margin:4pt 0 2pt;break-after:avoid}
h4{font-size:7.5pt;margin:3pt 0 1pt;break-after:avoid}
p{margin:1pt 0 3pt}
.l{font-weight:bold}
.cols{display:flex;gap:16pt}
.col{flex:1 1 0;min-width:0}
table{border-collapse:collapse;width:100%;margin:2pt 0 4pt}
thead{display:table-header-group}
tr{break-inside:avoid}
table.grid th,table.grid td,table.kv th,table.kv td{border:1px solid #BABABA;padding:1.5pt 3pt;vertical-align:top;text-align:left;overflow-wrap:break-word}
table.grid th,table.kv th{background:#F6F7FA;font-weight:bold}
table.kv th{width:35%}
th.center{white-space:nowrap;width:1%}
.nowrap{white-space:nowrap}
.lv.whole .v{display:inline-block;white-space:nowrap}
.right{text-align:right!important}
td.right{white-space:nowrap}
.center{text-align:center!important}
.break{word-break:break-all}
.total{text-align:right;font-size:9pt;margin-top:4pt}
`;

export const INVOICE_CSS = `@page{size:A4;margin:10mm 12mm 14mm 12mm}${BASE_CSS}
.sec{border-top:1px solid #c0bfc1;margin-top:5pt;padding-top:1pt}
.sec-header{border-top:0;margin-top:0;display:flex;justify-content:space-between;align-items:flex-start;gap:16pt}
.brand{font-size:16pt;font-weight:bold;white-space:nowrap}
.brand .e{color:#D32F2F}
.ident{text-align:right}
.ident .number{font-size:14pt;font-weight:bold}
.ident .kind{font-size:10pt;font-weight:bold;margin-top:2pt}
.ident .ksef{margin-top:2pt}
.party{break-inside:avoid}
.addr,.contact{margin-top:2pt}
ul.flags{margin:0;padding-left:12pt}
ul.flags li{margin:1pt 0}
.note{font-weight:bold;margin-bottom:4pt}
td:first-child.center{width:1%;white-space:nowrap}
.account{break-inside:avoid}
.sec-qr{border-top:0;break-inside:avoid}
.qr-block{break-inside:avoid;margin-top:4pt}
.qr-row{display:flex;align-items:center;gap:10pt}
.qr{margin:0;flex:none;width:150pt}
.kod2 .qr{width:210pt}
.qr-img{width:150pt;height:150pt}
.kod2 .qr-img{width:210pt;height:210pt}
.qr-img svg{display:block;width:100%;height:100%}
.qr-caption{text-align:center;margin-top:2pt;font-size:7pt;overflow-wrap:break-word}
.qr-text{flex:1 1 auto;min-width:0}
.qr-text a{color:#0000EE;text-decoration:none;word-break:break-all}
.watermark{position:fixed;top:40%;left:0;right:0;text-align:center;transform:rotate(-45deg);color:#B1B1B1;opacity:.2;
font-weight:bold;font-size:50pt;z-index:10;pointer-events:none;white-space:nowrap}
`;

export const UPO_CSS = `@page{size:A4 landscape;margin:10mm 12mm 14mm 12mm}${BASE_CSS}
.head{display:flex;justify-content:space-between;align-items:flex-start;gap:16pt;border-bottom:1px solid #c0bfc1;padding-bottom:4pt}
.brand{font-size:16pt;font-weight:bold;white-space:nowrap}
.brand .e{color:#D32F2F}
.receiver{text-align:right}
.receiver .name{font-weight:bold;font-size:10pt}
h1{font-size:13pt;text-align:center;margin:10pt 0 8pt}
table.kv{width:auto;min-width:60%}
table.docs{font-size:7.5pt}
table.docs td.hash{font-family:"DejaVu Sans Mono","Liberation Mono",monospace;font-size:6.5pt;white-space:nowrap}
`;
