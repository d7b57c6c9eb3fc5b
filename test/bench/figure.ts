/** One benchmark figure; `baseline` and `ratio` when measured side by side in the same run. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
}
