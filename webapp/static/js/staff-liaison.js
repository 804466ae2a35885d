// The liaison dashboard map: one marker per request row of the table below it.
import { showPoints } from "./staff-map.js";

function pointsFromTable(table) {
  if (!table) return [];
  return Array.from(table.querySelectorAll("tr[data-lat]")).map((row) => ({
    lat: Number(row.dataset.lat),
    long: Number(row.dataset.long),
    label: row.dataset.label,
    url: row.dataset.url,
  }));
}

showPoints(document.getElementById("liaison-map"), pointsFromTable(document.getElementById("liaison-requests")));
