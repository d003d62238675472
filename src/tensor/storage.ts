// Storage lives in the backend layer (a backend owns where numbers live); re-exported for ops and io.
export * from "../backend/storage.js";
